// Waits until every authoritative nameserver of a zone answers a challenge value authoritatively over DNS, as the
// CA will ask one of them: the certbot hook returns only then, so replication lag never fails an order. Bounded in
// time; the error names the servers that lag.

import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { UDPClient } from 'dns2';

export interface Nameserver {
  name: string;
  addresses: string[];
}

export interface WaitOptions {
  /** DNS port of the nameservers (53 in production; tests run on a high port). */
  port: number;
  timeoutMs: number;
  intervalMs?: number;
}

export class NameserverLagError extends Error {}

/** The nameserver's addresses: its glue, else what the system resolver gives for its name. */
export async function addressesOf(ns: Nameserver): Promise<string[]> {
  if (ns.addresses.length > 0) return ns.addresses;
  try {
    return (await lookup(ns.name.replace(/\.$/, ''), { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

const TXT = 16;

/**
 * Whether the server answers `value` authoritatively (AA set, NOERROR), as the CA's validation query will see it: a
 * resolver's cached copy or a REFUSED says nothing about the zone. dns2 retries over TCP when the reply is truncated.
 */
async function answers(address: string, port: number, fqdn: string, value: string): Promise<boolean> {
  const ask = UDPClient({ dns: address, port, timeout: 1000, socketType: isIPv6(address) ? 'udp6' : 'udp4' });
  try {
    const reply = await ask(fqdn.replace(/\.$/, ''), 'TXT', undefined, { recursive: false });
    if (reply.header.aa !== 1 || reply.header.rcode !== 0) return false;
    return reply.answers.some((rr) => rr.type === TXT && (Array.isArray(rr.data) ? rr.data.join('') : rr.data) === value);
  } catch {
    return false;
  }
}

/** Resolves when every address of every nameserver answers `value` at `fqdn`; throws NameserverLagError on timeout. */
export async function waitForNameservers(nameservers: Nameserver[], fqdn: string, value: string, options: WaitOptions): Promise<{ checked: string[]; ms: number }> {
  const started = Date.now();
  const targets: { label: string; address: string }[] = [];
  for (const ns of nameservers) {
    const addresses = await addressesOf(ns);
    if (addresses.length === 0) targets.push({ label: `${ns.name} (no address found)`, address: '' });
    for (const address of addresses) targets.push({ label: `${ns.name} ${address}`, address });
  }
  if (targets.length === 0) throw new NameserverLagError(`the zone of ${fqdn} has no NS records to check`);
  const pending = new Set(targets);
  const deadline = started + options.timeoutMs;
  const interval = options.intervalMs ?? 500;
  const maxRounds = Math.ceil(options.timeoutMs / interval) + 1;
  for (let round = 0; round < maxRounds; round++) {
    await Promise.all(
      [...pending].map(async (t) => {
        if (t.address !== '' && (await answers(t.address, options.port, fqdn, value))) pending.delete(t);
      }),
    );
    if (pending.size === 0) return { checked: targets.map((t) => t.label), ms: Date.now() - started };
    if (Date.now() + interval > deadline) break;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new NameserverLagError(
    `after ${Math.round((Date.now() - started) / 1000)} s these nameservers still do not answer ${fqdn} TXT "${value}": ${[...pending].map((t) => t.label).join(', ')}`,
  );
}
