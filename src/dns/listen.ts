// The DNS sockets of one process: for every --dns address a UDP socket and a TCP listener on the same port (port 0:
// UDP takes any free port and TCP the same number). IPv4 and IPv6 addresses may be mixed; an IPv6 wildcard (`[::]`)
// next to an IPv4 address on the same port is bound IPv6-only, as the two would otherwise claim the same port.

import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { listenTcp, type TcpOptions } from './tcp-server.js';
import { listenUdp, type Listening } from './udp-server.js';
import type { DnsResponder } from './update-dispatch.js';

export interface DnsAddress {
  host: string;
  port: number;
}

export interface DnsListener {
  udp: Listening;
  tcp: Listening;
}

/** Whether `address` must be bound IPv6-only so that an IPv4 address of `all` can have the same port. */
export function needsIpv6Only(address: DnsAddress, all: readonly DnsAddress[]): boolean {
  return address.host === '::' && address.port !== 0 && all.some((a) => !isIPv6(a.host) && a.port === address.port);
}

/** Binds every address in order; when one fails, the ones already bound are closed and the error is thrown. */
export async function listenDns(addresses: readonly DnsAddress[], handler: DnsResponder, logger: Logger, tcp: TcpOptions): Promise<DnsListener[]> {
  const listeners: DnsListener[] = [];
  try {
    for (const address of addresses) {
      const ipv6Only = needsIpv6Only(address, addresses);
      const udp = await listenUdp(address.host, address.port, handler, logger, { ipv6Only });
      try {
        listeners.push({ udp, tcp: await listenTcp(address.host, udp.port, handler, logger, { ...tcp, ipv6Only }) });
      } catch (err) {
        await udp.close();
        throw err;
      }
    }
  } catch (err) {
    await closeDns(listeners);
    throw err;
  }
  return listeners;
}

/** Closes every socket together; TCP connections get `drainMs` to finish what they were answering. */
export async function closeDns(listeners: readonly DnsListener[], drainMs?: number): Promise<void> {
  await Promise.all(listeners.flatMap((l) => [l.udp.close(), l.tcp.close(drainMs)]));
}

export function describeDns(listeners: readonly DnsListener[]): string[] {
  return listeners.map(({ udp }) => (isIPv6(udp.address) ? `[${udp.address}]:${udp.port}` : `${udp.address}:${udp.port}`));
}
