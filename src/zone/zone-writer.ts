// Writes zones to the store: whole zones (zone file import, replace, delete) and a few RRsets at a time (the RRset
// API, PowerDNS PATCH, ACME challenge values). Everything is validated before the first write, so a bad change
// writes nothing; the SOA serial only ever moves forward (RFC 1982 arithmetic). Every write is a zone version
// (zone-version.ts): its RRsets carry the version's marker and the zone document names the version, so nodes
// switch to it at once. A change of a few RRsets reads only those RRsets and the names around them, never the
// whole zone, so its cost does not grow with the zone (issue 13: one change in a 100,000-record zone).

import { ConflictError, type BulkResult, type Store, type StoredDoc } from '../store/store.js';
import type { RRset, Zone } from './model.js';
import { parentKey } from '../proto/names.js';
import { nextSerial } from './serial.js';
import { runSliced, STEP_ITEMS, type Steps } from './slices.js';
import { validateZone, validateZoneSteps, type ZoneSource } from './validate.js';
import {
  docToRRset,
  goneDoc,
  isGoneRRsetDoc,
  isRRsetDoc,
  rrsetDocId,
  rrsetDocIdOfKey,
  rrsetDocPrefix,
  rrsetKey,
  rrsetToDoc,
  splitRRsetKey,
  zoneDocId,
  type GoneRRsetDoc,
  type RRsetDoc,
  type ZoneDoc,
} from './zone-docs.js';
import { addHash, contentHash, hashText, MARKER_FIELD, parseHash, parseVersion, subtractHash, versionMarker, type ZoneVersion } from './zone-version.js';
import { RevisionMismatchError, ZoneExistsError, ZoneNotFoundError, ZoneValidationError, type ZoneProblem } from '../errors.js';
import type { ParsedRdata } from '../proto/rdata.js';
import { rrsetSizeProblem } from './rrset-size.js';
import { entryOf, foldDocs, inlineDocs, inlineFits, inlineRev, nextHistory, overlay, rankOf, replaces, type InlineRRset } from './inline-rrsets.js';

export { nextSerial, serialGreater } from './serial.js';

export interface SaveResult {
  zone: string;
  created: boolean;
  serial: number;
  rrsets: number;
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

export function docSerial(doc: RRsetDoc): number {
  return Number(doc.records[0]?.split(/\s+/)[2] ?? 0);
}

/**
 * Documents per bulk request: a 100,000-RRset import is written in pieces, each short enough (PouchDB works on a
 * request without a break, ~0.2 ms per document) that queries keep being answered between them.
 */
const BULK_CHUNK = 1000;

/** Writes the documents in order, in pieces; throws on the first that failed (ConflictError for a conflict). */
export async function writeAll(store: Store, docs: StoredDoc[]): Promise<BulkResult[]> {
  const results: BulkResult[] = [];
  for (let i = 0; i < docs.length; i += BULK_CHUNK) {
    const chunk = await store.bulk(docs.slice(i, i + BULK_CHUNK));
    results.push(...chunk);
    const failed = chunk.find((r) => r.error);
    if (failed) {
      if (failed.error === 'conflict') throw new ConflictError(failed.id);
      throw new Error(`writing ${failed.id} failed: ${failed.error} ${failed.reason ?? ''}`.trim());
    }
  }
  return results;
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
  const problems = await runSliced(validateZoneSteps(zone, parsed));
  if (problems.length > 0) throw new ZoneValidationError(zone.name, problems, options.source?.field, options.source?.file);
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
  const { docs, result } = await planSave(store, zone, options);
  await writeAll(store, docs);
  return result;
}

/**
 * The documents that save a (validated) zone as a new version, in the order they are written: its RRsets, gone
 * markers for RRsets it no longer has, and the zone document last.
 */
export async function planSave(store: Store, zone: Zone, options: { replace: boolean }): Promise<{ docs: StoredDoc[]; result: SaveResult }> {
  const existing = (await store.get(zoneDocId(zone.name))) as ZoneDoc | undefined;
  if (existing && !options.replace) throw new ZoneExistsError(zone.name);
  // Live RRsets and gone markers alike: a document is overwritten with the revision it has.
  const old = await store.list(rrsetDocPrefix(zone.name));
  return runSliced(saveSteps(zone, existing, old));
}

function* saveSteps(zone: Zone, existing: ZoneDoc | undefined, stored: StoredDoc[]): Steps<{ docs: StoredDoc[]; result: SaveResult }> {
  const now = new Date().toISOString();
  const old = new Map<string, StoredDoc>();
  for (const doc of stored) old.set(doc._id, doc);
  yield;
  // What the zone holds: its RRset documents with the zone document's inline RRsets over them.
  const content = existing?.inline ? overlay(existing, stored) : stored;
  const oldSoa = content.find((doc) => doc._id === rrsetDocId(zone.name, zone.name, 'SOA'));
  const soa = zone.rrsets.find((r) => r.type === 'SOA') as RRset;
  const serial = oldSoa && isRRsetDoc(oldSoa) ? nextSerial(docSerial(oldSoa), soaSerial(soa)) : soaSerial(soa);
  const newDocs: RRsetDoc[] = [];
  let sum = 0;
  for (const rrset of zone.rrsets) {
    const doc = rrsetToDoc(zone.name, rrset.type === 'SOA' ? withSerial(rrset, serial) : rrset);
    sum = addHash(sum, contentHash(doc));
    newDocs.push(doc);
    if (newDocs.length % STEP_ITEMS === 0) yield;
  }
  const version: ZoneVersion = { serial, hash: hashText(sum) };
  const previous = parseVersion(existing?.version);
  if (previous) version.prev = versionMarker(previous);
  const marker = versionMarker(version);

  const docs: StoredDoc[] = [];
  const newIds = new Set(newDocs.map((doc) => doc._id));
  for (const doc of newDocs) {
    doc[MARKER_FIELD] = marker;
    const before = old.get(doc._id);
    if (before) doc._rev = before._rev;
    docs.push(doc);
    if (docs.length % STEP_ITEMS === 0) yield;
  }
  for (const doc of goneDocs(zone.name, stored, existing, newIds, marker)) docs.push(doc);
  // The zone document goes last: a node learns of the version once the RRsets it names have all been written.
  const zoneDoc: ZoneDoc = { _id: zoneDocId(zone.name), type: 'zone', name: zone.name, createdAt: existing?.createdAt ?? now, updatedAt: now, version, history: nextHistory(existing, version) };
  if (existing) zoneDoc._rev = existing._rev;
  docs.push(zoneDoc);
  return { docs, result: { zone: zone.name, created: !existing, serial, rrsets: zone.rrsets.length } };
}

/**
 * Gone markers, under version `marker`, for every RRset of the zone not in `keep` (ids): each live RRset document
 * (`stored`), and each live RRset only the zone document's inline part had, which a node holds until a gone marker
 * replaces it.
 */
function goneDocs(zone: string, stored: readonly StoredDoc[], zoneDoc: ZoneDoc | undefined, keep: ReadonlySet<string>, marker: string): StoredDoc[] {
  const docs: StoredDoc[] = [];
  const byId = new Map<string, StoredDoc>();
  for (const doc of stored) {
    byId.set(doc._id, doc);
    if (isRRsetDoc(doc) && !keep.has(doc._id)) docs.push(goneDoc(zone, doc.name, doc.rrtype, marker, doc._rev));
  }
  for (const doc of inlineDocs(zoneDoc)) {
    const real = byId.get(doc._id);
    if (isRRsetDoc(doc) && !keep.has(doc._id) && !(real && isRRsetDoc(real))) docs.push(goneDoc(zone, doc.name, doc.rrtype, marker, real?._rev));
  }
  return docs;
}

/**
 * Deletes the zone: its zone document goes, and its RRsets become gone markers of a last version, so a node that
 * receives them before the zone document's deletion keeps serving the whole zone until that deletion arrives.
 */
export async function deleteZone(store: Store, name: string): Promise<void> {
  const zoneDoc = (await store.get(zoneDocId(name))) as ZoneDoc | undefined;
  if (!zoneDoc) throw new ZoneNotFoundError(name);
  const current = parseVersion(zoneDoc.version);
  const marker = versionMarker({ serial: nextSerial(current?.serial ?? 0, current?.serial ?? 0), hash: hashText(0) });
  const docs = goneDocs(name, await store.list(rrsetDocPrefix(name)), zoneDoc, new Set(), marker);
  docs.push({ _id: zoneDoc._id, _rev: zoneDoc._rev, _deleted: true });
  await writeAll(store, docs);
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
  /** This write settles the RRset's contested states (contested.ts): they are dropped with it. */
  settles?: boolean;
}

export interface RRsetWriteResult {
  zone: string;
  serial: number;
  /** New revision of each RRset written ("name/TYPE" → _rev); absent for deletions. */
  revisions: Record<string, string>;
  /** Whether anything was written (a plan may decide there is nothing to do). */
  changed: boolean;
}

/** A zone's RRset documents by "name/TYPE", as a plan sees them; `at` answers every RRset at one owner name. */
export interface ZoneRRsets extends ReadonlyMap<string, RRsetDoc> {
  at(name: string): RRsetDoc[];
}

/** A plain map of RRset documents (read whole) as ZoneRRsets. */
export function zoneRRsets(docs: ReadonlyMap<string, RRsetDoc>): ZoneRRsets {
  // A new Map rather than Object.create(docs): Map methods refuse any receiver but a real Map.
  const rrsets = new Map(docs) as Map<string, RRsetDoc> & { at?: (name: string) => RRsetDoc[] };
  rrsets.at = (name: string) => [...docs.values()].filter((doc) => doc.name === name);
  return rrsets as ZoneRRsets;
}

export type RRsetPlan = (current: ZoneRRsets) => RRsetWrite[];

/**
 * Reads the RRsets `plan` asks about, asks it what to write, validates the names the writes touch against the rest
 * of the zone, then writes the changed RRsets, the SOA with its serial moved forward and the zone document naming
 * the new version. Nothing is written when the plan or the validation throws. Writes to one zone from this process
 * are serialized; a conflict with another node's write re-runs the plan on fresh data (a stale client revision
 * then fails as it should). A zone the writes would make invalid is refused naming `field`, the request field the
 * written records came from.
 */
export function updateRRsets(store: Store, zone: string, plan: RRsetPlan, field = 'records'): Promise<RRsetWriteResult> {
  return inZoneQueue(zone, () => updateWithRetries(store, zone, plan, field));
}

/** One queue per zone: this process's writes to a zone never race each other for the SOA document. */
const zoneLocks = new Map<string, Promise<unknown>>();

/** Runs `task` after every write to `zone` this process started before it. */
export function inZoneQueue<T>(zone: string, task: () => Promise<T>): Promise<T> {
  const previous = zoneLocks.get(zone) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(task);
  const tail = run.catch(() => undefined);
  zoneLocks.set(zone, tail);
  void tail.then(() => {
    if (zoneLocks.get(zone) === tail) zoneLocks.delete(zone);
  });
  return run;
}
const RRSET_ATTEMPTS = 5;

async function updateWithRetries(store: Store, zone: string, plan: RRsetPlan, field: string): Promise<RRsetWriteResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      // _bulk_docs is not atomic: a failed attempt may have stored some of its RRsets, which no version's hash
      // counts. A retry reads the whole zone, so the version it writes names what the store holds.
      return await tryUpdate(store, zone, plan, field, attempt > 1);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= RRSET_ATTEMPTS) throw err;
    }
  }
}

/** The owner name of an rrsetKey. */
function nameOfKey(key: string): string {
  return splitRRsetKey(key)[0];
}

/** A change touching more names than this reads the whole zone once instead of each name on its own. */
const NAMES_READ_ONE_BY_ONE = 32;
/** Names read at once (one request each). */
const NAMES_AT_ONCE = 8;
/** Plans are asked again while they want RRsets not read yet; past this many rounds the whole zone is read. */
const PLAN_ROUNDS = 3;

/**
 * What a plan sees: the RRsets read so far. Asked about one not read yet (an RRset, or every RRset at a name), it
 * answers with what it has and notes what it lacked, so the plan can be run again once that is read; asked to go
 * through everything, it notes that the whole zone is wanted.
 */
class PlanView implements ZoneRRsets {
  readonly missed = new Set<string>();
  readonly missedNames = new Set<string>();
  wantsAll = false;
  private byName: Map<string, RRsetDoc[]> | undefined;

  constructor(private readonly read: ZoneRead) {}

  get(key: string): RRsetDoc | undefined {
    if (!this.read.has(key)) this.missed.add(key);
    return this.read.live.get(key);
  }

  at(name: string): RRsetDoc[] {
    if (!this.read.complete && !this.read.names.has(name)) this.missedNames.add(name);
    if (!this.byName) {
      this.byName = new Map();
      for (const doc of this.read.live.values()) {
        const list = this.byName.get(doc.name);
        if (list) list.push(doc);
        else this.byName.set(doc.name, [doc]);
      }
    }
    return this.byName.get(name) ?? [];
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  private all(): ReadonlyMap<string, RRsetDoc> {
    if (!this.read.complete) this.wantsAll = true;
    return this.read.live;
  }

  get size(): number {
    return this.all().size;
  }

  forEach(callback: (value: RRsetDoc, key: string, map: ReadonlyMap<string, RRsetDoc>) => void): void {
    this.all().forEach((value, key) => callback(value, key, this));
  }

  entries(): MapIterator<[string, RRsetDoc]> {
    return this.all().entries();
  }

  keys(): MapIterator<string> {
    return this.all().keys();
  }

  values(): MapIterator<RRsetDoc> {
    return this.all().values();
  }

  [Symbol.iterator](): MapIterator<[string, RRsetDoc]> {
    return this.entries();
  }
}

/**
 * The RRsets of one zone read so far, by "name/TYPE": the RRset documents read (`real`, for their revisions) and the
 * zone document's inline RRsets over them (inline-rrsets.ts), giving what the zone holds: live ones and gone ones.
 */
class ZoneRead {
  readonly live = new Map<string, RRsetDoc>();
  readonly gone = new Map<string, GoneRRsetDoc>();
  /** RRset documents read (live or gone markers), whatever the inline RRsets say. */
  readonly real = new Map<string, StoredDoc>();
  private readonly inline = new Map<string, RRsetDoc | GoneRRsetDoc>();
  /** Keys read (present or not). */
  readonly known = new Set<string>();
  /** Names whose every RRset has been read. */
  readonly names = new Set<string>();
  complete = false;

  constructor(
    private readonly store: Store,
    readonly zone: string,
  ) {}

  private take(doc: StoredDoc): void {
    if ((isRRsetDoc(doc) || isGoneRRsetDoc(doc)) && doc.zone === this.zone) {
      const key = rrsetKey(doc.name, doc.rrtype);
      this.real.set(key, doc);
      this.known.add(key);
      this.settle(key);
    }
  }

  /** The zone document's inline RRsets, over the documents read before and after. */
  takeInline(zoneDoc: ZoneDoc): void {
    for (const doc of inlineDocs(zoneDoc)) {
      const key = rrsetKey(doc.name, doc.rrtype);
      this.inline.set(key, doc);
      this.settle(key);
    }
  }

  private settle(key: string): void {
    const real = this.real.get(key);
    const inline = this.inline.get(key);
    const doc = !inline ? real : !real || !replaces(rankOf(real), rankOf(inline)) ? inline : real;
    if (doc && isRRsetDoc(doc)) {
      this.live.set(key, doc);
      this.gone.delete(key);
    } else if (doc && isGoneRRsetDoc(doc)) {
      this.gone.set(key, doc);
      this.live.delete(key);
    }
  }

  /** Whether the RRset `key` has been read (it was asked for, or every RRset at its name was). */
  has(key: string): boolean {
    return this.complete || this.known.has(key) || this.names.has(nameOfKey(key));
  }

  async readAll(): Promise<void> {
    if (this.complete) return;
    for (const doc of await this.store.list(rrsetDocPrefix(this.zone))) this.take(doc);
    this.complete = true;
  }

  async readKeys(keys: Iterable<string>): Promise<void> {
    if (this.complete) return;
    const wanted = [...new Set(keys)].filter((key) => !this.has(key));
    if (wanted.length === 0) return;
    const ids = wanted.map((key) => rrsetDocIdOfKey(this.zone, key));
    this.accept(wanted, await this.store.getMany(ids));
  }

  /** The RRsets `keys` as read (undefined where there is none). */
  accept(keys: readonly string[], docs: readonly (StoredDoc | undefined)[]): void {
    for (const doc of docs) if (doc) this.take(doc);
    for (const key of keys) this.known.add(key);
  }

  /** Reads every RRset at the names, several names at once (a write waits on each round trip). */
  async readNames(names: Iterable<string>): Promise<void> {
    if (this.complete) return;
    const wanted = [...new Set(names)].filter((name) => !this.names.has(name));
    for (let i = 0; i < wanted.length; i += NAMES_AT_ONCE) {
      const batch = wanted.slice(i, i + NAMES_AT_ONCE);
      const lists = await Promise.all(batch.map((name) => this.store.list(`${rrsetDocPrefix(this.zone)}${name}/`)));
      batch.forEach((name, j) => {
        for (const doc of lists[j]) if (doc.name === name) this.take(doc);
        this.names.add(name);
      });
    }
  }

  /** Reads the names and the RRsets in one round trip. */
  async read(names: Iterable<string>, keys: Iterable<string>): Promise<void> {
    await Promise.all([this.readNames(names), this.readKeys(keys)]);
  }

  /** Live RRsets at the names given. */
  at(names: ReadonlySet<string>): RRsetDoc[] {
    return [...this.live.values()].filter((doc) => names.has(doc.name));
  }
}

/** Ancestors of `name` strictly between it and the apex. */
function ancestorsBelowApex(name: string, apex: string): string[] {
  const out: string[] = [];
  for (let key = parentKey(name); key !== undefined && key !== apex && key.endsWith(apex); key = parentKey(key)) out.push(key);
  return out;
}

/**
 * What a plan run on `view` needs read next: the RRsets it asked for and those it writes, and whole, every name it
 * touches, with the apex and the delegations above them (which the validation reads anyway).
 */
function readsFor(view: PlanView, writes: readonly RRsetWrite[], zone: string): { names: string[]; keys: string[] } {
  let keys = [...view.missed, ...writes.map((w) => rrsetKey(w.name, w.type))];
  const names = [...view.missedNames];
  const touching = [...new Set(keys.map(nameOfKey))];
  if (touching.length > 0 && touching.length <= NAMES_READ_ONE_BY_ONE) {
    names.push(...touching, zone);
    keys.push(...touching.flatMap((name) => ancestorsBelowApex(name, zone)).map((name) => rrsetKey(name, 'NS')));
    const whole = new Set(names);
    keys = keys.filter((key) => !whole.has(nameOfKey(key)));
  }
  return { names, keys };
}

/** The reads a plan asks for when nothing is read yet; undefined when it wants the whole zone. */
function probePlan(plan: RRsetPlan, read: ZoneRead, zone: string): { names: string[]; keys: string[] } | undefined {
  const view = new PlanView(read);
  let writes: RRsetWrite[] = [];
  try {
    writes = plan(view);
  } catch {
    // Refused on nothing read (a revision that does not match nothing, say): its reads are still what it asked for.
  }
  return view.wantsAll ? undefined : readsFor(view, writes, zone);
}

async function tryUpdate(store: Store, zone: string, plan: RRsetPlan, field: string, readWhole: boolean): Promise<RRsetWriteResult> {
  const soaKey = rrsetKey(zone, 'SOA');
  const read = new ZoneRead(store, zone);
  // Asked once on nothing, the plan says what it reads and writes (plans are pure: they are asked again on what is
  // read): that is read in the same round trip as the zone document and the SOA, which every write needs. On a loaded
  // server each trip costs tens of milliseconds before any node has the write.
  const first = readWhole ? undefined : probePlan(plan, read, zone);
  const [[zoneDoc, soa]] = await Promise.all([
    store.getMany([zoneDocId(zone), rrsetDocId(zone, zone, 'SOA')]) as Promise<[ZoneDoc | undefined, StoredDoc | undefined]>,
    first ? read.read(first.names, first.keys) : undefined,
  ]);
  if (!zoneDoc) throw new ZoneNotFoundError(zone);
  const version = parseVersion(zoneDoc.version);
  // A zone written before versions existed is read whole once, to compute its first hash.
  if (!version || readWhole) await read.readAll();
  else read.accept([soaKey], [soa]);
  read.takeInline(zoneDoc);

  let writes: RRsetWrite[] = [];
  for (let round = 1; ; round++) {
    const view = new PlanView(read);
    let failure: unknown;
    try {
      writes = plan(view);
    } catch (err) {
      failure = err;
    }
    if (read.complete) {
      if (failure !== undefined) throw failure;
      break;
    }
    if (view.wantsAll || round > PLAN_ROUNDS) {
      await read.readAll();
      continue;
    }
    const { names, keys } = readsFor(view, failure === undefined ? writes : [], zone);
    if (keys.every((key) => read.has(key)) && names.every((name) => read.names.has(name))) {
      if (failure !== undefined) throw failure;
      break;
    }
    await read.read(names, keys);
  }

  const soaDoc = read.live.get(soaKey);
  if (!soaDoc) throw new ZoneNotFoundError(zone);
  const oldSerial = docSerial(soaDoc);
  if (writes.length === 0) return { zone, serial: oldSerial, revisions: {}, changed: false };

  // The names the writes touch, read whole (every type at the name), with the apex and the delegations above them.
  const touched = new Set(writes.map((w) => w.name));
  const changesDelegation = writes.some((w) => w.type === 'NS' && w.name !== zone);
  if (changesDelegation || touched.size > NAMES_READ_ONE_BY_ONE) await read.readAll();
  else {
    await read.read(
      [...touched, zone],
      [...touched].flatMap((name) => ancestorsBelowApex(name, zone)).map((name) => rrsetKey(name, 'NS')),
    );
  }

  const next = new Map(read.live);
  const written = new Map<string, RRsetDoc | undefined>();
  let proposedSerial = oldSerial + 1;
  for (const w of writes) {
    const key = rrsetKey(w.name, w.type);
    const existing = read.live.get(key);
    if (w.revision !== undefined && (existing?._rev ?? null) !== w.revision) throw new RevisionMismatchError(w.name, w.type, existing?._rev ?? null);
    if (w.rrset) {
      if (w.rrset.type === 'SOA') proposedSerial = soaSerial(w.rrset);
      const doc: RRsetDoc = { ...rrsetToDoc(zone, w.rrset), ...(w.extra ?? {}) };
      next.set(key, doc);
      written.set(key, doc);
    } else {
      if (w.type === 'SOA') throw new ZoneValidationError(zone, [{ name: w.name, type: 'SOA', message: 'the SOA cannot be deleted (delete the zone instead)' }], field);
      next.delete(key);
      written.set(key, undefined);
    }
  }
  const serial = nextSerial(oldSerial, proposedSerial);
  const newSoa = next.get(soaKey) as RRsetDoc;
  const bumped: RRsetDoc = { ...newSoa, records: withSerial(docToRRset(newSoa), serial).records };
  next.set(soaKey, bumped);
  written.set(soaKey, bumped);

  // Validated: the whole zone when it was read whole, else the touched names in their surroundings.
  const checked = read.complete ? [...next.values()] : [...next.values()].filter((doc) => touched.has(doc.name) || doc.name === zone || doc.rrtype === 'NS');
  const problems = validateZone({ name: zone, rrsets: checked.map(docToRRset) }).filter((p) => read.complete || touched.has(p.name) || p.name === zone);
  if (problems.length > 0) throw new ZoneValidationError(zone, problems, field);
  // Only the RRsets written: a zone stored before the limit keeps accepting writes beside an oversized RRset.
  assertRRsetsFit(zone, writes.flatMap((w) => (w.rrset ? [[w.rrset, undefined] as const] : [])), { field });

  // The new hash: from the whole zone when it was read whole (which also repairs a hash that drifted), else the
  // previous version's hash with the written RRsets' old content taken out and their new content put in.
  let sum: number;
  if (read.complete) {
    sum = 0;
    for (const doc of next.values()) sum = addHash(sum, contentHash(doc));
  } else {
    sum = parseHash((version as ZoneVersion).hash);
    for (const [key, doc] of written) {
      const before = read.live.get(key);
      if (before) sum = subtractHash(sum, contentHash(before));
      if (doc) sum = addHash(sum, contentHash(doc));
    }
  }
  const newVersion: ZoneVersion = { serial, hash: hashText(sum), changes: {} };
  if (version) newVersion.prev = versionMarker(version);
  const marker = versionMarker(newVersion);
  const changes = newVersion.changes as Record<string, string>;

  // One document: the zone document with the new version and the written RRsets inline (inline-rrsets.ts).
  const inline: Record<string, InlineRRset> = { ...(zoneDoc.inline ?? {}) };
  const revisions: Record<string, string> = {};
  for (const [key, doc] of written) {
    if (doc) {
      inline[key] = entryOf(doc, marker)[1];
      changes[doc._id] = hashText(contentHash(doc));
      revisions[key] = inlineRev(newVersion);
    } else {
      const live = read.live.get(key);
      if (!live) continue; // deleting what is not there: nothing to write
      inline[key] = { gone: true, zv: marker };
      changes[live._id] = '';
    }
  }
  const zoneUpdate: ZoneDoc = { ...zoneDoc, updatedAt: new Date().toISOString(), version: newVersion, inline, history: nextHistory(zoneDoc, newVersion) };
  if (zoneDoc.contested && writes.some((w) => w.settles)) {
    const contested = { ...zoneDoc.contested };
    for (const w of writes) if (w.settles) delete contested[rrsetKey(w.name, w.type)];
    zoneUpdate.contested = contested;
    if (Object.keys(contested).length === 0) delete zoneUpdate.contested;
  }
  if (inlineFits(inline)) {
    await writeAll(store, [zoneUpdate]);
    return { zone, serial, revisions, changed: true };
  }

  // Too big to carry: a fold. Every inline RRset becomes its RRset document again, under this version.
  await read.readKeys(Object.keys(inline));
  const real = new Map([...read.real.values()].map((doc) => [doc._id, doc]));
  const { docs, keys } = foldDocs(zone, inline, real, marker);
  delete zoneUpdate.inline;
  docs.push(zoneUpdate);
  const results = await writeAll(store, docs);
  results.forEach((r, i) => {
    const key = keys[i];
    if (key !== undefined && !r.error && r.rev && next.has(key) && written.has(key)) revisions[key] = r.rev;
  });
  return { zone, serial, revisions, changed: true };
}
