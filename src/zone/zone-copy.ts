// This node's copy of one zone: the RRset documents it serves, the ones it has received but holds back until the
// version they belong to is complete (zone-version.ts), and the zone document naming the newest version.
//
// A document arrives (by the changes feed, a catch-up, a full read or the snapshot) and is either ready (applied at
// the next flush: no version marker, or a marker not newer than the version served, which is a late document or an
// edit made straight in the store) or held (its marker is newer: it belongs to a version not complete yet). The
// copy keeps the hash of everything received, so telling whether a version is complete costs one comparison.

import { packName, unpackName, unpackRRsets, type HashedDoc } from './packed-docs.js';
import type { RRset } from './model.js';
import { goneDoc, isGoneRRsetDoc, isRRsetDoc, rrsetDocPrefix, type RRsetDoc, type ZoneDoc } from './zone-docs.js';
import {
  addHash,
  contentHash,
  MARKER_FIELD,
  newerThan,
  parseHash,
  parseMarker,
  parseVersion,
  sameVersion,
  subtractHash,
  versionMarker,
  type Marker,
  type ZoneVersion,
} from './zone-version.js';
import type { StoredDoc } from '../store/store.js';
import { isInlineRev, replaces } from './inline-rrsets.js';
import { runAtOnce, STEP_ITEMS, type Steps } from './slices.js';

const NO_DOCS: RRsetDoc[] = [];
/** Versions a copy remembers as its own. */
const LINEAGE = 64;

/** The generation of a CouchDB revision ("3-9b1e…" → 3); 0 when there is none. */
export function revisionNumber(rev: string | undefined): number {
  return rev === undefined ? 0 : Number.parseInt(rev, 10) || 0;
}

/** One received document: an RRset, or its absence (deleted, or a gone marker). */
interface Received {
  id: string;
  name: string;
  doc: RRsetDoc | null;
  hash: number;
  marker: Marker | undefined;
  rev: string | undefined;
}

export type Settled = 'complete' | 'forced' | undefined;

export class ZoneCopy {
  #doc: ZoneDoc | undefined;
  #version: ZoneVersion | undefined;
  #applied: Marker | undefined;
  /**
   * Markers of the versions this copy served lately (its own lineage, newest last): a document not newer than the
   * served version but of a version not among them was written elsewhere, on the other side of a partition, and is
   * held until a version that merges it arrives (zone-reconcile.ts) instead of being mixed into the served one.
   */
  private readonly lineage: Marker[] = [];
  /** Every RRset document of the zone has been read (full read, snapshot, or read when the zone appeared). */
  loaded = false;
  /** Since when documents are held back (undefined: none is). */
  heldSince: number | undefined;
  /** Fields beyond the usual ones that some served document has (ACME expiries, pool): found without unpacking. */
  readonly fields = new Set<string>();
  /** Served documents: owner name → its documents, packed. */
  private readonly served = new Map<string, string>();
  private servedCount = 0;
  private held = new Map<string, Received>();
  private ready = new Map<string, Received>();
  private fresh: RRsetDoc[] | undefined;
  /** Ready documents being served by applyReadySteps, until each is packed into `served`. */
  private applying: Map<string, Received> | undefined;
  /** Sum of the content hashes of everything received: served, overlaid with ready and held. */
  private receivedHash = 0;

  constructor(readonly zone: string) {}

  /** The version the served documents are at; undefined before the first (or for a zone written before versions). */
  get applied(): Marker | undefined {
    return this.#applied;
  }

  set applied(marker: Marker | undefined) {
    this.#applied = marker;
    if (marker) this.remember(marker);
  }

  private remember(marker: Marker): void {
    if (this.lineage.some((m) => sameVersion(m, marker))) return;
    this.lineage.push({ serial: marker.serial, hash: marker.hash });
    if (this.lineage.length > LINEAGE) this.lineage.shift();
  }

  /**
   * Whether a document of version `marker` (not newer than the served one) belongs with what is served: a version
   * of this copy's lineage, or one older than all it remembers (an edit made straight in the store copies the marker
   * of the document it changed, which may be that old).
   */
  private ours(marker: Marker): boolean {
    return this.lineage.length === 0 || this.lineage.some((m) => sameVersion(m, marker)) || this.lineage.every((m) => newerThan(m, marker));
  }
  /** The owner name an RRset document id of this zone names (rrset/<zone>/<name>/<type>), if it is one. */
  nameOfId(id: string): string | undefined {
    const prefix = rrsetDocPrefix(this.zone);
    const slash = id.lastIndexOf('/');
    return id.startsWith(prefix) && slash > prefix.length ? id.slice(prefix.length, slash) : undefined;
  }

  /** The newest zone document received (the store's winner), or undefined while there is none. */
  get doc(): ZoneDoc | undefined {
    return this.#doc;
  }

  set doc(doc: ZoneDoc | undefined) {
    this.#doc = doc;
    this.#version = parseVersion(doc?.version);
  }

  /** The version the zone document names (parsed once per document). */
  get version(): ZoneVersion | undefined {
    return this.#version;
  }

  get rrsetCount(): number {
    let count = this.servedCount;
    for (const entry of [...(this.applying?.values() ?? []), ...this.ready.values()]) {
      const served = this.servedEntry(entry.id, entry.name) !== undefined;
      count += (entry.doc ? 1 : 0) - (served ? 1 : 0);
    }
    return count;
  }

  get holding(): number {
    return this.held.size;
  }

  get pendingChanges(): number {
    return this.readyCount;
  }

  /** The zone's content differs from what its zone document says, with nothing held that could make up for it. */
  get diverged(): boolean {
    const version = this.version;
    return version !== undefined && this.held.size === 0 && this.receivedHash !== parseHash(version.hash);
  }

  /**
   * Takes in a document (an RRset, a gone marker, or null for a deletion) for `id` at owner `name`. Answers what
   * happened to it: nothing (the same revision is here already), ready, or held. `onlyNewer`: a write of this
   * process, ignored when a later revision is here. `asRead`: read from the store, whose content is taken as the
   * served version's even where it comes from another lineage (there is nothing else to serve in its place).
   */
  receive(id: string, name: string, stored: StoredDoc | null, now: number, how: { onlyNewer?: boolean; asRead?: boolean } = {}): 'same' | 'ready' | 'held' {
    const { onlyNewer = false, asRead = false } = how;
    const doc = stored && isRRsetDoc(stored) ? stored : null;
    const rev = stored?._rev;
    // The feed bringing back what is served already (this node's own writes): told apart without unpacking.
    if (rev !== undefined && doc && !this.ready.has(id) && !this.held.has(id) && !this.applying?.has(id) && this.servesRevision(name, rev)) return 'same';
    const current = this.current(id, name);
    if (current !== undefined ? rev !== undefined && current.rev === rev : doc === null) return 'same';
    const marker = stored && (doc || isGoneRRsetDoc(stored)) ? parseMarker(stored[MARKER_FIELD]) : undefined;
    // An inline RRset of the zone document and an RRset document: the newer version wins (inline-rrsets.ts).
    const inline = isInlineRev(rev) || isInlineRev(current?.rev);
    if (current !== undefined && inline && !replaces({ rev, marker }, current)) return 'same';
    // A write of this process told to us directly: the feed may have brought a later revision already.
    if (onlyNewer && !inline && current?.rev !== undefined && revisionNumber(current.rev) >= revisionNumber(rev)) return 'same';
    const hash = doc ? contentHash(doc) : 0;
    this.receivedHash = subtractHash(addHash(this.receivedHash, hash), current?.hash ?? 0);
    const entry: Received = { id, name, doc, hash, marker, rev };
    this.ready.delete(id);
    if (this.held.delete(id) && this.held.size === 0) this.heldSince = undefined;
    if (marker !== undefined && (this.applied === undefined || newerThan(marker, this.applied) || (!asRead && !this.ours(marker)))) {
      this.held.set(id, entry);
      this.heldSince ??= now;
      return 'held';
    }
    this.ready.set(id, entry);
    return 'ready';
  }

  /** Everything received adds up to the version the zone document names: no need to read the zone from the store. */
  holdsWhole(): boolean {
    const version = this.version;
    return version !== undefined && version.changes === undefined && this.receivedHash === parseHash(version.hash);
  }

  /**
   * Releases the held documents of the newest version once it is complete, or, after `waitMs` of holding, those
   * the newest version covers (a version whose documents never all arrive must not stop the zone for good).
   */
  settle(now: number, waitMs: number): Settled {
    const version = this.version;
    const target = version ? { serial: version.serial, hash: version.hash } : undefined;
    if (version && target && !sameVersion(target, this.applied) && this.completes(version)) {
      this.release(target, now);
      this.applied = target;
      return 'complete';
    }
    if (this.held.size > 0 && this.heldSince !== undefined && now - this.heldSince >= waitMs) {
      // Documents of a version newer than any zone document (a write that failed half way) stay held.
      if (target || this.doc) this.release(target, now);
      if (target && (this.applied === undefined || newerThan(target, this.applied))) this.applied = target;
      this.heldSince = this.held.size > 0 ? now : undefined;
      return 'forced';
    }
    return undefined;
  }

  private completes(version: ZoneVersion): boolean {
    if (this.receivedHash === parseHash(version.hash)) return true;
    // A write on top of the version served here is complete once every RRset it wrote is here as it wrote it, even
    // if something else in the zone differs from the hash (an edit made straight in the store, say).
    if (!version.changes || !version.prev || !this.applied || version.prev !== versionMarker(this.applied)) return false;
    for (const [id, hash] of Object.entries(version.changes)) {
      const name = this.nameOfId(id);
      const current = name === undefined ? undefined : this.current(id, name);
      const have = current?.doc ? current.hash : undefined;
      if (hash === '' ? have !== undefined : have === undefined || have !== parseHash(hash)) return false;
    }
    return true;
  }

  /** Moves held documents not newer than `target` (all of them without a target) to ready. */
  private release(target: Marker | undefined, now: number): void {
    const later = new Map<string, Received>();
    let last: Marker | undefined;
    for (const [id, entry] of this.held) {
      if (target && entry.marker && newerThan(entry.marker, target)) later.set(id, entry);
      else if (entry.marker && !(last && sameVersion(last, entry.marker))) {
        // Served from now on: an edit made straight in the store that copies this marker belongs with them.
        last = entry.marker;
        this.remember(entry.marker);
      }
    }
    if (this.ready.size === 0 && later.size === 0) this.ready = this.held;
    else for (const [id, entry] of this.held) if (!later.has(id)) this.ready.set(id, entry);
    const released = this.held.size - later.size;
    this.held = later;
    // What is still held belongs to later versions: it has waited since this progress, not since the first one held.
    if (this.held.size === 0) this.heldSince = undefined;
    else if (released > 0) this.heldSince = now;
  }

  /**
   * Serves the ready documents: answers the owner names whose documents changed, with what was there before, so
   * the index can be patched (or rebuilt when that is simpler). In steps: documents received meanwhile go to ready
   * again, and are served by the next call.
   */
  applyReady(): Map<string, RRsetDoc[]> {
    return runAtOnce(this.applyReadySteps());
  }

  /**
   * When the last applyReady served a copy that had nothing served before (a zone read at start, a new zone), every
   * document it serves, so a build need not unpack them again; undefined otherwise. Taken once.
   */
  takeFresh(): RRsetDoc[] | undefined {
    const fresh = this.fresh;
    this.fresh = undefined;
    return fresh;
  }

  *applyReadySteps(): Steps<Map<string, RRsetDoc[]>> {
    const batch = this.ready;
    const fresh: RRsetDoc[] | undefined = this.served.size === 0 ? [] : undefined;
    this.fresh = undefined;
    this.ready = new Map();
    this.applying = batch;
    const byName = new Map<string, Received[]>();
    for (const entry of batch.values()) {
      const list = byName.get(entry.name);
      if (list) list.push(entry);
      else byName.set(entry.name, [entry]);
    }
    const before = new Map<string, RRsetDoc[]>();
    let step = 0;
    for (const [name, entries] of byName) {
      if (!this.served.has(name)) {
        // A new name (all of a new zone's are): nothing to unpack or compare.
        const docs: HashedDoc[] = [];
        for (const entry of entries) if (entry.doc) docs.push({ doc: entry.doc, hash: entry.hash });
        const unique = new Map(docs.map((d) => [d.doc._id, d]));
        before.set(name, NO_DOCS);
        this.servedCount += unique.size;
        if (fresh) for (const d of unique.values()) fresh.push(d.doc);
        if (unique.size > 0) this.served.set(name, packName(this.zone, unique.values(), this.fields));
      } else {
        const docs = this.servedAt(name);
        before.set(name, [...docs.values()].map((d) => d.doc));
        for (const entry of entries) {
          const had = docs.has(entry.id);
          if (entry.doc) docs.set(entry.id, { doc: entry.doc, hash: entry.hash });
          else docs.delete(entry.id);
          this.servedCount += (entry.doc ? 1 : 0) - (had ? 1 : 0);
        }
        if (docs.size > 0) this.served.set(name, packName(this.zone, docs.values(), this.fields));
        else this.served.delete(name);
      }
      // Served now: a document received from here on compares with the served one.
      for (const entry of entries) batch.delete(entry.id);
      if (++step % STEP_ITEMS === 0) yield;
    }
    this.applying = undefined;
    this.fresh = fresh;
    return before;
  }

  /** Documents ready to be served, not served yet (including those being served right now, in steps). */
  get readyCount(): number {
    return this.ready.size + (this.applying?.size ?? 0);
  }

  /** The served documents at one owner name. */
  docsAt(name: string): RRsetDoc[] {
    const text = this.served.get(name);
    return text === undefined ? NO_DOCS : unpackName(this.zone, name, text).map((d) => d.doc);
  }

  /** The served RRsets at one owner name, as the index takes them. */
  rrsetsAt(name: string): RRset[] {
    const text = this.served.get(name);
    return text === undefined ? [] : unpackRRsets(name, text);
  }

  /** Owner names with served documents. */
  names(): IterableIterator<string> {
    return this.served.keys();
  }

  /** Served documents, with those ready to be served over them: what the API shows. */
  docs(): RRsetDoc[] {
    const out = new Map<string, RRsetDoc>();
    for (const [name, text] of this.served) for (const { doc } of unpackName(this.zone, name, text)) out.set(doc._id, doc);
    for (const entry of [...(this.applying?.values() ?? []), ...this.ready.values()]) {
      if (entry.doc) out.set(entry.id, entry.doc);
      else out.delete(entry.id);
    }
    return [...out.values()];
  }

  /**
   * Everything a snapshot must hold to give this copy back (the zone document, served, ready and held documents),
   * as it is now: the state is taken at once, the served documents are unpacked one name at a time as they are
   * iterated (a 100,000-RRset zone is never all objects at once).
   */
  snapshot(): Iterable<StoredDoc> {
    const zone = this.zone;
    const served = [...this.served];
    const pending: StoredDoc[] = [];
    if (this.doc) pending.push(this.doc);
    for (const entry of [...(this.applying?.values() ?? []), ...this.ready.values(), ...this.held.values()]) {
      const marker = entry.marker ? versionMarker(entry.marker) : undefined;
      if (entry.doc) pending.push(marker ? { ...entry.doc, [MARKER_FIELD]: marker } : entry.doc);
      else if (marker) pending.push(goneDoc(zone, entry.name, entry.id.slice(entry.id.lastIndexOf('/') + 1), marker, entry.rev));
    }
    // Served first: a ready or held document of the same RRset is newer, and is taken back after it.
    return (function* () {
      for (const [name, text] of served) for (const { doc } of unpackName(zone, name, text)) yield doc;
      yield* pending;
    })();
  }

  /** Some document served at `name` has revision `rev` (packed-docs.ts writes it right after the records). */
  private servesRevision(name: string, rev: string): boolean {
    return this.served.get(name)?.includes(`],${JSON.stringify(rev)},`) === true;
  }

  private servedAt(name: string): Map<string, HashedDoc> {
    const docs = new Map<string, HashedDoc>();
    const text = this.served.get(name);
    if (text !== undefined) for (const d of unpackName(this.zone, name, text)) docs.set(d.doc._id, d);
    return docs;
  }

  private servedEntry(id: string, name: string): HashedDoc | undefined {
    const text = this.served.get(name);
    if (text === undefined) return undefined;
    for (const d of unpackName(this.zone, name, text)) if (d.doc._id === id) return d;
    return undefined;
  }

  /** The newest received state of one document: ready, held, else served. */
  private current(id: string, name: string): { doc: RRsetDoc | null; hash: number; rev: string | undefined; marker: Marker | undefined } | undefined {
    const pending = this.ready.get(id) ?? this.held.get(id) ?? this.applying?.get(id);
    if (pending) return pending;
    const served = this.servedEntry(id, name);
    return served ? { doc: served.doc, hash: served.hash, rev: served.doc._rev, marker: parseMarker(served.doc[MARKER_FIELD]) } : undefined;
  }
}
