// UDP transport: one datagram in, at most one datagram out.

import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { DnsResponder } from './update-dispatch.js';

export interface Listening {
  address: string;
  port: number;
  /**
   * Stops listening. `drainMs` (TCP): connections are not cut at once; answers already written are sent and a
   * query being received is answered, for up to that long. Without it every connection is closed now.
   */
  close(drainMs?: number): Promise<void>;
}

export interface ListenOptions {
  /** An IPv6 wildcard that must leave IPv4 to another socket on the same port (`--dns 0.0.0.0:53,[::]:53`). */
  ipv6Only?: boolean;
}

/**
 * Receive buffer asked for. The system default (~208 KiB) holds only a couple of hundred small datagrams, so a
 * garbage-collection pause under a flood drops queries; the kernel caps this at net.core.rmem_max.
 */
export const UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;

export function listenUdp(host: string, port: number, handle: DnsResponder, logger: Logger, options: ListenOptions = {}): Promise<Listening> {
  const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false, recvBufferSize: UDP_RECEIVE_BUFFER, ipv6Only: options.ipv6Only === true });
  socket.on('message', (message, remote) => {
    const response = handle(message, 'udp', remote.address);
    if (response instanceof Promise) {
      // an UPDATE is answered later (it awaits the store); queries go on meanwhile. The socket may be closed by then.
      void response.then((r) => {
        try {
          if (r) socket.send(r, remote.port, remote.address);
        } catch (err) {
          logger.debug({ err }, 'UDP answer to an UPDATE not sent');
        }
      });
    } else if (response) socket.send(response, remote.port, remote.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      // an ICMP-triggered send error must not end the server
      socket.on('error', (err) => logger.warn({ err }, 'UDP socket error'));
      const address = socket.address();
      logger.debug({ receiveBuffer: socket.getRecvBufferSize() }, 'UDP receive buffer');
      resolve({
        address: address.address,
        port: address.port,
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}
