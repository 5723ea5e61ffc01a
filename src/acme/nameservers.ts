// The nameservers of a served zone, as the zone itself names them (NS at the apex, addresses from its glue), and
// whether each of them answers the zone authoritatively: the check before any ACME order is placed, so a zone whose
// delegation does not reach edgedns never costs a CA request (or a failed validation against its rate limits).

import { isIPv6 } from 'node:net';
import { UDPClient } from 'dns2';
import type { ZoneSync } from '../zone/zone-sync.js';
import { addressesOf, type Nameserver } from './wait-nameservers.js';

/** The zone's NS names with the addresses the zone itself gives them (glue). */
export function zoneNameservers(sync: ZoneSync, zone: string): Nameserver[] {
  const docs = sync.rrsetDocs(zone);
  const ns = docs.find((d) => d.name === zone && d.rrtype === 'NS')?.records ?? [];
  return ns.map((name) => ({
    name,
    addresses: docs.filter((d) => d.name === name.toLowerCase() && (d.rrtype === 'A' || d.rrtype === 'AAAA')).flatMap((d) => d.records),
  }));
}

const SOA = 6;

async function answersSoa(address: string, port: number, zone: string): Promise<boolean> {
  const ask = UDPClient({ dns: address, port, timeout: 1000, socketType: isIPv6(address) ? 'udp6' : 'udp4' });
  try {
    const reply = await ask(zone.replace(/\.$/, '') || '.', 'SOA', undefined, { recursive: false });
    return reply.header.aa === 1 && reply.header.rcode === 0 && reply.answers.some((rr) => rr.type === SOA);
  } catch {
    return false;
  }
}

/** The nameservers (name and address) that do not answer the zone's SOA authoritatively; [] when every one does. */
export async function nameserversNotAnswering(nameservers: Nameserver[], zone: string, port: number): Promise<string[]> {
  if (nameservers.length === 0) return [`${zone} has no NS records`];
  const targets: { label: string; address: string }[] = [];
  for (const ns of nameservers) {
    const addresses = await addressesOf(ns);
    if (addresses.length === 0) targets.push({ label: `${ns.name} (no address found)`, address: '' });
    for (const address of addresses) targets.push({ label: `${ns.name} ${address}`, address });
  }
  const results = await Promise.all(targets.map(async (t) => (t.address !== '' && (await answersSoa(t.address, port, zone)) ? undefined : t.label)));
  return results.filter((r): r is string => r !== undefined);
}
