// RFC 2136 dynamic update semantics over edgedns's RRsets: the prescans of prerequisites (§3.2) and updates
// (§3.4.1), the prerequisites checked against the zone as it is (§3.2.5), and the updates applied in order (§3.4.2)
// into the writes the zone writer makes as one atomic, validated write. Pure: the caller passes the zone's RRset
// documents (updateRRsets's plan), so a retried write checks the prerequisites again on fresh data.
//
// Pools: a dynamic (pool) RRset exists for the prerequisites but has no records, so a value-dependent prerequisite
// on it fails; deleting its type deletes it; deleting one record from it does nothing; adding a record to it is
// REFUSED (it would silently turn a pool into one fixed address: delete the RRset first, in the same update).

import { Class, Rcode, Type, typeName } from '../proto/constants.js';
import { isInZone } from '../proto/names.js';
import { notZoneData, parseRdataText, RdataError, rdataFromWire, rdataKey, type ParsedRdata } from '../proto/rdata.js';
import type { UpdateRecord } from '../proto/update-reader.js';
import type { RRset } from './model.js';
import { docToRRset } from './zone-docs.js';
import { serialGreater, soaSerial, type RRsetWrite, type ZoneRRsets } from './zone-writer.js';

/** An update refused with an RFC 2136 rcode; the message is for the log. */
export class UpdateFailure extends Error {
  constructor(
    readonly rcode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface CheckedRecord {
  name: string;
  /** Type mnemonic as the zone model writes it ("A", "TYPE65"), or "ANY". */
  type: string;
  code: number;
  class: number;
  ttl: number;
  rdata?: ParsedRdata;
}

const META_LOW = 128; // RFC 6895 §3.1: 128-255 are query and meta types
const isMeta = (code: number): boolean => code >= META_LOW && code <= 255;

function rdataOf(r: UpdateRecord, what: string): ParsedRdata {
  try {
    return rdataFromWire(r.type, r.rdata);
  } catch (err) {
    if (err instanceof RdataError) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name} ${typeName(r.type)}: ${err.message}`);
    throw err;
  }
}

function checked(r: UpdateRecord, rdata?: ParsedRdata): CheckedRecord {
  return { name: r.name, type: typeName(r.type), code: r.type, class: r.class, ttl: r.ttl, ...(rdata ? { rdata } : {}) };
}

/** RFC 2136 §3.2.1-3.2.4: the form of each prerequisite; FORMERR or NOTZONE when it is wrong. */
export function prescanPrerequisites(zone: string, zoneClass: number, records: UpdateRecord[]): CheckedRecord[] {
  return records.map((r) => {
    const what = 'prerequisite';
    if (r.ttl !== 0) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: TTL must be 0`);
    if (!isInZone(r.name, zone)) throw new UpdateFailure(Rcode.NOTZONE, `${what} ${r.name} is outside the zone ${zone}`);
    if (r.class === Class.ANY || r.class === Class.NONE) {
      if (r.rdata.length !== 0) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: class ${r.class === Class.ANY ? 'ANY' : 'NONE'} with rdata`);
      if (isMeta(r.type) && r.type !== Type.ANY) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: meta type ${typeName(r.type)}`);
      return checked(r);
    }
    if (r.class !== zoneClass) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: class ${r.class}`);
    if (isMeta(r.type)) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: meta type ${typeName(r.type)} with a value`);
    return checked(r, rdataOf(r, what));
  });
}

/** RFC 2136 §3.4.1.3: the form of each update; FORMERR or NOTZONE, REFUSED for a type edgedns cannot store. */
export function prescanUpdates(zone: string, zoneClass: number, records: UpdateRecord[]): CheckedRecord[] {
  return records.map((r) => {
    const what = 'update';
    if (!isInZone(r.name, zone)) throw new UpdateFailure(Rcode.NOTZONE, `${what} ${r.name} is outside the zone ${zone}`);
    if (r.class === zoneClass) {
      if (isMeta(r.type) || r.type === Type.OPT || r.type === 0) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: cannot add type ${typeName(r.type)}`);
      const refused = notZoneData(r.type);
      if (refused !== undefined) throw new UpdateFailure(Rcode.REFUSED, `${what} ${r.name}: ${refused}`);
      return checked(r, rdataOf(r, what));
    }
    if (r.class === Class.ANY) {
      if (r.ttl !== 0 || r.rdata.length !== 0) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: class ANY needs TTL 0 and no rdata`);
      if (isMeta(r.type) && r.type !== Type.ANY) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: meta type ${typeName(r.type)}`);
      return checked(r);
    }
    if (r.class === Class.NONE) {
      if (r.ttl !== 0) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: class NONE needs TTL 0`);
      if (isMeta(r.type)) throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: meta type ${typeName(r.type)}`);
      return checked(r, rdataOf(r, what));
    }
    throw new UpdateFailure(Rcode.FORMERR, `${what} ${r.name}: class ${r.class}`);
  });
}

/** An RRset being updated: its records' canonical text and comparison keys side by side. */
interface Working {
  name: string;
  type: string;
  ttl: number;
  records: string[];
  keys: string[];
  pool?: string;
}

function working(rrset: RRset): Working {
  const keys = rrset.records.map((text) => rdataKey(parseRdataText(rrset.type, text)));
  return { name: rrset.name, type: rrset.type, ttl: rrset.ttl, records: [...rrset.records], keys, ...(rrset.pool !== undefined ? { pool: rrset.pool } : {}) };
}

const key = (name: string, type: string): string => `${name}/${type}`;

/** RFC 2136 §3.2.5: throws the rcode of the first prerequisite the zone does not meet. */
function checkPrerequisites(current: ZoneRRsets, prerequisites: CheckedRecord[], zoneClass: number): void {
  // Asked per name, never by going through every RRset: that would make the zone writer read the whole zone, which
  // an update of a few RRsets in a big zone should not pay for (zone-writer.ts, PlanView).
  const inUse = (name: string): boolean => current.at(name).length > 0;
  const wanted = new Map<string, { name: string; type: string; keys: Set<string> }>();
  for (const p of prerequisites) {
    const exists = p.type === 'ANY' ? inUse(p.name) : current.has(key(p.name, p.type));
    if (p.class === Class.ANY && !exists) throw new UpdateFailure(p.type === 'ANY' ? Rcode.NXDOMAIN : Rcode.NXRRSET, `prerequisite: ${p.name}${p.type === 'ANY' ? '' : ' ' + p.type} does not exist`);
    if (p.class === Class.NONE && exists) throw new UpdateFailure(p.type === 'ANY' ? Rcode.YXDOMAIN : Rcode.YXRRSET, `prerequisite: ${p.name}${p.type === 'ANY' ? '' : ' ' + p.type} exists`);
    if (p.class === zoneClass && p.rdata) {
      const k = key(p.name, p.type);
      const entry = wanted.get(k) ?? { name: p.name, type: p.type, keys: new Set<string>() };
      entry.keys.add(rdataKey(p.rdata));
      wanted.set(k, entry);
    }
  }
  for (const [k, want] of wanted) {
    const doc = current.get(k);
    const have = doc ? new Set(working(docToRRset(doc)).keys) : new Set<string>();
    const equal = doc !== undefined && doc.pool === undefined && have.size === want.keys.size && [...want.keys].every((x) => have.has(x));
    if (!equal) throw new UpdateFailure(Rcode.NXRRSET, `prerequisite: ${want.name} ${want.type} is not the RRset given`);
  }
}

/**
 * The writes an update makes to the zone `zone` whose RRset documents are `current`: prerequisites first (an
 * UpdateFailure with their rcode), then each update in order (§3.4.2). No writes when nothing changes.
 */
export function planUpdate(zone: string, zoneClass: number, current: ZoneRRsets, prerequisites: CheckedRecord[], updates: CheckedRecord[]): RRsetWrite[] {
  checkPrerequisites(current, prerequisites, zoneClass);
  const next = new Map<string, Working | undefined>();
  const get = (k: string): Working | undefined => {
    if (next.has(k)) return next.get(k);
    const doc = current.get(k);
    return doc ? working(docToRRset(doc)) : undefined;
  };
  const namesAt = (name: string): Set<string> => {
    const types = new Set<string>();
    for (const doc of current.at(name)) types.add(doc.rrtype);
    for (const [k, w] of next) {
      const type = k.slice(k.lastIndexOf('/') + 1);
      if (k.slice(0, k.lastIndexOf('/')) !== name) continue;
      if (w) types.add(type);
      else types.delete(type);
    }
    return types;
  };

  for (const u of updates) {
    const k = key(u.name, u.type);
    if (u.class === zoneClass && u.rdata) {
      const rdata = u.rdata;
      const types = namesAt(u.name);
      // §3.4.2.2: a CNAME where other data is, or other data where a CNAME is, is ignored
      if (u.type === 'CNAME' && [...types].some((t) => t !== 'CNAME' && t !== 'RRSIG' && t !== 'NSEC')) continue;
      if (u.type !== 'CNAME' && u.type !== 'RRSIG' && u.type !== 'NSEC' && types.has('CNAME')) continue;
      const existing = get(k);
      if (existing?.pool !== undefined) throw new UpdateFailure(Rcode.REFUSED, `${u.name} ${u.type} is answered from pool ${existing.pool}: delete the RRset (class ANY) before adding records`);
      // §3.4.2.2: an SOA replaces the SOA only with a later serial, a CNAME replaces the CNAME
      if (u.type === 'SOA') {
        const proposed: RRset = { name: u.name, type: 'SOA', ttl: u.ttl, records: [rdata.text] };
        if (existing && !serialGreater(soaSerial(proposed), soaSerial(existing))) continue;
        next.set(k, { ...proposed, keys: [rdataKey(rdata)] });
        continue;
      }
      if (u.type === 'CNAME') {
        next.set(k, { name: u.name, type: 'CNAME', ttl: u.ttl, records: [rdata.text], keys: [rdataKey(rdata)] });
        continue;
      }
      const w: Working = existing ? { ...existing, records: [...existing.records], keys: [...existing.keys] } : { name: u.name, type: u.type, ttl: u.ttl, records: [], keys: [] };
      w.ttl = u.ttl; // one TTL per RRset (RFC 2181 §5.2): the last one added sets it
      const rk = rdataKey(rdata);
      if (!w.keys.includes(rk)) {
        w.records.push(rdata.text);
        w.keys.push(rk);
      }
      next.set(k, w);
    } else if (u.class === Class.ANY && u.type === 'ANY') {
      for (const type of namesAt(u.name)) {
        // §3.4.2.3: the apex keeps its SOA and NS
        if (u.name === zone && (type === 'SOA' || type === 'NS')) continue;
        next.set(key(u.name, type), undefined);
      }
    } else if (u.class === Class.ANY) {
      if (u.name === zone && (u.type === 'SOA' || u.type === 'NS')) continue;
      if (get(k)) next.set(k, undefined);
    } else if (u.class === Class.NONE && u.rdata) {
      if (u.type === 'SOA') continue; // §3.4.2.4
      const existing = get(k);
      if (!existing || existing.pool !== undefined) continue;
      const i = existing.keys.indexOf(rdataKey(u.rdata));
      if (i < 0) continue;
      // §3.4.2.4: the apex's last NS is not deleted
      if (u.name === zone && u.type === 'NS' && existing.records.length === 1) continue;
      const w = { ...existing, records: existing.records.filter((_, j) => j !== i), keys: existing.keys.filter((_, j) => j !== i) };
      next.set(k, w.records.length > 0 ? w : undefined);
    }
  }

  const writes: RRsetWrite[] = [];
  for (const [k, w] of next) {
    const doc = current.get(k);
    const name = k.slice(0, k.lastIndexOf('/'));
    const type = k.slice(k.lastIndexOf('/') + 1);
    if (!w) {
      if (doc) writes.push({ name, type });
      continue;
    }
    const rrset: RRset = { name, type, ttl: w.ttl, records: w.records, ...(w.pool !== undefined ? { pool: w.pool } : {}) };
    const old = doc ? docToRRset(doc) : undefined;
    const same = old !== undefined && old.ttl === rrset.ttl && old.pool === rrset.pool && old.records.length === rrset.records.length && old.records.every((r, i) => r === rrset.records[i]);
    if (!same) writes.push({ name, type, rrset });
  }
  return writes;
}
