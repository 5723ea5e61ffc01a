// What the PowerDNS routes answer: zone objects and RRsets in PowerDNS's JSON shape. A name's pool RRsets show as
// one LUA RRset (pdns-lua.ts), so every RRset a client reads it can write back as it read it.

import type { RRset } from '../../zone/model.js';
import type { RRsetDoc } from '../../zone/zone-docs.js';
import { docToRRset } from '../../zone/zone-docs.js';
import { luaRRset } from './pdns-lua.js';
import { pdnsZoneId } from './pdns-ids.js';

export const BASE = '/api/v1/servers/localhost';

/**
 * The PowerDNS version the API answers like, as PowerDNS writes it: clients compare it to choose behaviour
 * (octodns-powerdns parses it as integers and expects 404 for an unknown zone from 4.2 on, as here).
 */
export const PDNS_COMPATIBLE_VERSION = '4.9.0';

export interface PdnsRRsetView {
  name: string;
  type: string;
  ttl: number;
  records: { content: string; disabled: boolean }[];
  comments: never[];
}

export function soaSerialOf(docs: RRsetDoc[]): number {
  const soa = docs.find((d) => d.rrtype === 'SOA');
  return Number(soa?.records[0]?.split(/\s+/)[2] ?? 0);
}

export function zoneSummary(name: string, serial: number): Record<string, unknown> {
  const id = pdnsZoneId(name);
  return {
    id,
    name,
    type: 'Zone',
    url: `${BASE}/zones/${id}`,
    kind: 'Native',
    serial,
    notified_serial: serial,
    edited_serial: serial,
    masters: [],
    dnssec: false,
    nsec3param: '',
    nsec3narrow: false,
    presigned: false,
    soa_edit: '',
    soa_edit_api: 'DEFAULT',
    api_rectify: false,
    account: '',
    catalog: '',
  };
}

function view(rrset: { name: string; type: string; ttl: number; records: string[] }): PdnsRRsetView {
  return { name: rrset.name, type: rrset.type, ttl: rrset.ttl, records: rrset.records.map((content) => ({ content, disabled: false })), comments: [] };
}

/** A zone's RRsets as PowerDNS shows them, sorted by name then type; pool RRsets merged into LUA per name. */
export function pdnsRRsets(docs: RRsetDoc[]): PdnsRRsetView[] {
  const out: PdnsRRsetView[] = [];
  const pools = new Map<string, RRset[]>();
  for (const doc of docs) {
    const rrset = docToRRset(doc);
    if (rrset.pool === undefined) out.push(view(rrset));
    else pools.set(rrset.name, [...(pools.get(rrset.name) ?? []), rrset]);
  }
  for (const group of pools.values()) out.push(view(luaRRset(group)));
  return out.sort((a, b) => (a.name === b.name ? a.type.localeCompare(b.type) : a.name < b.name ? -1 : 1));
}
