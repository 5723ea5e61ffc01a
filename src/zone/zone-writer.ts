// Writes whole zones to the store (zone file import, replace, delete). Everything is validated before the first
// write, so a bad zone changes nothing; the SOA serial only ever moves forward (RFC 1982 arithmetic).

import { ConflictError, type Store, type StoredDoc } from '../store/store.js';
import type { RRset, Zone } from './model.js';
import { assertValidZone, type ZoneSource } from './validate.js';
import { docsToZone, docToRRset, isRRsetDoc, rrsetDocPrefix, rrsetToDoc, zoneDocId, type RRsetDoc, type ZoneDoc } from './zone-docs.js';
import { RevisionMismatchError, ZoneExistsError, ZoneNotFoundError, ZoneValidationError, type ZoneProblem } from '../errors.js';
import type { ParsedRdata } from '../proto/rdata.js';
import { rrsetSizeProblem } from './rrset-size.js';

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

/** Refuses RRsets that no DNS message could carry (rrset-size.ts), naming the limit. */
function assertRRsetsFit(zone: string, rrsets: readonly (readonly [RRset, ParsedRdata[] | undefined])[], source: ZoneSource = {}): void {
  const problems: ZoneProblem[] = [];
  for (const [rrset, parsed] of rrsets) {
    const problem = rrsetSizeProblem(rrset, parsed);
    if (problem) problems.push({ name: rrset.name, type: rrset.type, message: problem });
  }
  if (problems.length > 0) throw new ZoneValidationError(zone, problems, source.field, source.file);
}

/** `source` names the input in a validation error (the API's body and the file name it was sent as). */
export async function saveZone(store: Store, zone: Zone, options: { replace: boolean; source?: ZoneSource }): Promise<SaveResult> {
  const parsed = new Map<RRset, ParsedRdata[]>();
  assertValidZone(zone, parsed, options.source);
  assertRRsetsFit(zone.name, zone.rrsets.map((rrset) => [rrset, parsed.get(rrset)]), options.source);
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

// ---- RRset-level writes (API PUT/DELETE of one RRset, PowerDNS PATCH, ACME challenge values) ----

/** One RRset to put (rrset set) or delete (rrset undefined); `revision` null means "must not exist yet". */
export interface RRsetWrite {
  name: string;
  type: string;
  rrset?: RRset;
  revision?: string | null;
  /** Extra fields kept on the stored document (ACME expiry bookkeeping); not part of the RRset. */
  extra?: Record<string, unknown>;
}

export interface RRsetWriteResult {
  zone: string;
  serial: number;
  /** New revision of each RRset written ("name/TYPE" → _rev); absent for deletions. */
  revisions: Record<string, string>;
  /** Whether anything was written (a plan may decide there is nothing to do). */
  changed: boolean;
}

/**
 * Reads the zone's current RRset documents, asks `plan` what to write, validates the whole resulting zone like an
 * import, then writes the changed RRsets and the SOA with its serial moved forward. Nothing is written when the
 * plan or the validation throws. Writes to one zone from this process are serialized; a conflict with another
 * node's write re-runs the plan on fresh data (a stale client revision then fails as it should). A zone the writes
 * would make invalid is refused naming `field`, the request field the written records came from.
 */
export function updateRRsets(store: Store, zone: string, plan: (current: ReadonlyMap<string, RRsetDoc>) => RRsetWrite[], field = 'records'): Promise<RRsetWriteResult> {
  const previous = zoneLocks.get(zone) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => updateWithRetries(store, zone, plan, field));
  const tail = run.catch(() => undefined);
  zoneLocks.set(zone, tail);
  void tail.then(() => {
    if (zoneLocks.get(zone) === tail) zoneLocks.delete(zone);
  });
  return run;
}

/** One queue per zone: this process's writes to a zone never race each other for the SOA document. */
const zoneLocks = new Map<string, Promise<unknown>>();
const RRSET_ATTEMPTS = 5;

async function updateWithRetries(store: Store, zone: string, plan: (current: ReadonlyMap<string, RRsetDoc>) => RRsetWrite[], field: string): Promise<RRsetWriteResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryUpdate(store, zone, plan, field);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= RRSET_ATTEMPTS) throw err;
    }
  }
}

function rrsetKey(name: string, type: string): string {
  return `${name}/${type}`;
}

async function tryUpdate(store: Store, zone: string, plan: (current: ReadonlyMap<string, RRsetDoc>) => RRsetWrite[], field: string): Promise<RRsetWriteResult> {
  if (!(await store.get(zoneDocId(zone)))) throw new ZoneNotFoundError(zone);
  const current = new Map<string, RRsetDoc>();
  for (const doc of await store.list(rrsetDocPrefix(zone))) if (isRRsetDoc(doc)) current.set(rrsetKey(doc.name, doc.rrtype), doc);
  const writes = plan(current);
  const soaDoc = [...current.values()].find((d) => d.rrtype === 'SOA' && d.name === zone);
  if (!soaDoc) throw new ZoneNotFoundError(zone);
  const oldSerial = Number(soaDoc.records[0]?.split(/\s+/)[2] ?? 0);
  if (writes.length === 0) return { zone, serial: oldSerial, revisions: {}, changed: false };

  const next = new Map(current);
  const touched = new Map<string, RRsetDoc | undefined>();
  let proposedSerial = oldSerial + 1;
  for (const w of writes) {
    const key = rrsetKey(w.name, w.type);
    const existing = current.get(key);
    if (w.revision !== undefined && (existing?._rev ?? null) !== w.revision) throw new RevisionMismatchError(w.name, w.type, existing?._rev ?? null);
    if (w.rrset) {
      if (w.rrset.type === 'SOA') proposedSerial = soaSerial(w.rrset);
      const doc: RRsetDoc = { ...rrsetToDoc(zone, w.rrset), ...(w.extra ?? {}) };
      if (existing?._rev) doc._rev = existing._rev;
      next.set(key, doc);
      touched.set(key, doc);
    } else {
      if (w.type === 'SOA') throw new ZoneValidationError(zone, [{ name: w.name, type: 'SOA', message: 'the SOA cannot be deleted (delete the zone instead)' }], field);
      next.delete(key);
      touched.set(key, existing);
    }
  }

  const serial = nextSerial(oldSerial, proposedSerial);
  const soaKey = rrsetKey(zone, 'SOA');
  const newSoa = next.get(soaKey) as RRsetDoc;
  const bumped: RRsetDoc = { ...newSoa, records: withSerial(docToRRset(newSoa), serial).records };
  next.set(soaKey, bumped);
  touched.set(soaKey, bumped);
  assertValidZone(docsToZone(zone, next.values()), undefined, { field });
  // Only the RRsets written: a zone stored before the limit keeps accepting writes beside an oversized RRset.
  assertRRsetsFit(zone, writes.flatMap((w) => (w.rrset ? [[w.rrset, undefined] as const] : [])), { field });

  const docs: StoredDoc[] = [];
  const keys: string[] = [];
  for (const [key, doc] of touched) {
    if (doc === undefined) continue; // deleting what is not there: nothing to write
    if (next.has(key)) docs.push(doc);
    else docs.push({ _id: doc._id, _rev: doc._rev, _deleted: true });
    keys.push(key);
  }
  const results = await store.bulk(docs);
  const revisions: Record<string, string> = {};
  results.forEach((r, i) => {
    if (!r.error && r.rev && next.has(keys[i] as string)) revisions[keys[i] as string] = r.rev;
  });
  const failed = results.find((r) => r.error);
  if (failed) {
    if (failed.error === 'conflict') throw new ConflictError(failed.id);
    throw new Error(`writing ${failed.id} failed: ${failed.error} ${failed.reason ?? ''}`.trim());
  }
  return { zone, serial, revisions, changed: true };
}
