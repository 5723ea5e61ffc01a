// Writes whole zones to the store (zone file import, replace, delete). Everything is validated before the first
// write, so a bad zone changes nothing; the SOA serial only ever moves forward (RFC 1982 arithmetic).

import { ConflictError, type Store, type StoredDoc } from '../store/store.js';
import type { RRset, Zone } from './model.js';
import { assertValidZone } from './validate.js';
import { isRRsetDoc, rrsetDocPrefix, rrsetToDoc, zoneDocId, type ZoneDoc } from './zone-docs.js';

export class ZoneExistsError extends Error {
  constructor(readonly zone: string) {
    super(`zone ${zone} already exists; use --replace (API: ?replace=true) to overwrite it`);
  }
}

export class ZoneNotFoundError extends Error {
  constructor(readonly zone: string) {
    super(`zone ${zone} does not exist`);
  }
}

export interface SaveResult {
  zone: string;
  created: boolean;
  serial: number;
  rrsets: number;
}

/** RFC 1982 §3.2: is `a` greater than `b` in serial number arithmetic? */
export function serialGreater(a: number, b: number): boolean {
  return a !== b && ((a > b && a - b < 2 ** 31) || (a < b && b - a > 2 ** 31));
}

export function nextSerial(previous: number, proposed: number): number {
  return serialGreater(proposed, previous) ? proposed : (previous + 1) % 2 ** 32;
}

function soaFields(rrset: RRset): string[] {
  return rrset.records[0].split(/\s+/);
}

export function soaSerial(rrset: RRset): number {
  return Number(soaFields(rrset)[2]);
}

export function withSerial(rrset: RRset, serial: number): RRset {
  const fields = soaFields(rrset);
  fields[2] = String(serial);
  return { ...rrset, records: [fields.join(' ')] };
}

const MAX_ATTEMPTS = 3;

export async function saveZone(store: Store, zone: Zone, options: { replace: boolean }): Promise<SaveResult> {
  assertValidZone(zone);
  for (let attempt = 1; ; attempt++) {
    try {
      return await trySave(store, zone, options);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

async function trySave(store: Store, zone: Zone, options: { replace: boolean }): Promise<SaveResult> {
  const now = new Date().toISOString();
  const existing = (await store.get(zoneDocId(zone.name))) as ZoneDoc | undefined;
  if (existing && !options.replace) throw new ZoneExistsError(zone.name);
  const old = new Map<string, StoredDoc>();
  for (const doc of await store.list(rrsetDocPrefix(zone.name))) old.set(doc._id, doc);

  let rrsets = zone.rrsets;
  const soa = rrsets.find((r) => r.type === 'SOA') as RRset;
  let serial = soaSerial(soa);
  const oldSoa = [...old.values()].find((d) => isRRsetDoc(d) && d.rrtype === 'SOA');
  if (oldSoa && isRRsetDoc(oldSoa)) {
    serial = nextSerial(Number(oldSoa.records[0]?.split(/\s+/)[2] ?? 0), serial);
    rrsets = rrsets.map((r) => (r.type === 'SOA' ? withSerial(r, serial) : r));
  }

  const docs: StoredDoc[] = [];
  for (const rrset of rrsets) {
    const doc = rrsetToDoc(zone.name, rrset);
    const previous = old.get(doc._id);
    if (previous) {
      doc._rev = previous._rev;
      old.delete(doc._id);
    }
    docs.push(doc);
  }
  for (const doc of old.values()) docs.push({ _id: doc._id, _rev: doc._rev, _deleted: true });
  // The zone document goes last: a node starts serving a new zone only once its records are there.
  const zoneDoc: ZoneDoc = { _id: zoneDocId(zone.name), type: 'zone', name: zone.name, createdAt: existing?.createdAt ?? now, updatedAt: now };
  if (existing) zoneDoc._rev = existing._rev;
  docs.push(zoneDoc);

  const results = await store.bulk(docs);
  const failed = results.find((r) => r.error);
  if (failed) {
    if (failed.error === 'conflict') throw new ConflictError(failed.id);
    throw new Error(`writing ${failed.id} failed: ${failed.error} ${failed.reason ?? ''}`.trim());
  }
  return { zone: zone.name, created: !existing, serial, rrsets: rrsets.length };
}

export async function deleteZone(store: Store, name: string): Promise<void> {
  const zoneDoc = await store.get(zoneDocId(name));
  if (!zoneDoc) throw new ZoneNotFoundError(name);
  const docs: StoredDoc[] = [{ _id: zoneDoc._id, _rev: zoneDoc._rev, _deleted: true }];
  for (const doc of await store.list(rrsetDocPrefix(name))) docs.push({ _id: doc._id, _rev: doc._rev, _deleted: true });
  await store.bulk(docs);
}
