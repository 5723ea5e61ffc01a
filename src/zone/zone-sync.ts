// Keeps the catalog equal to the store: a full read at start, then the changes feed (through the shared retrying
// follower, which catches up from the checkpoint after an outage). Each zone has a copy here (zone-copy.ts) that
// takes documents in as they come and holds those of a version until it is complete; then the version is put in
// the index at once. A change of a few names is patched into the zone's index; a big change, a new zone or a zone
// whose last build failed is rebuilt aside, in slices when it is big, and swapped in. A zone that fails to build
// keeps serving its last good index; the failure is logged and counted.
//
// Issue 7 (100,000 RRsets in 1,000 zones): the full read goes zone by zone, several at once, each zone built as soon
// as it is read. Issue 13: versions (never a mix of two writes), big zones off the hot path, serials that mean
// something (zone-reconcile.ts).

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RetryingFollower } from '../store/retrying-follower.js';
import type { Change, Store, StoredDoc } from '../store/store.js';
import type { SnapshotStore } from '../store/snapshot.js';
import type { StoreHealth } from '../store/store-health.js';
import type { ParsedRdata } from '../proto/rdata.js';
import { Type } from '../proto/constants.js';
import type { Catalog } from './catalog.js';
import type { RRset, Zone } from './model.js';
import { runAtOnce, runSliced, STEP_ITEMS, type Steps } from './slices.js';
import { validateZone, validateZoneSteps, ZoneValidationError } from './validate.js';
import { revisionNumber, ZoneCopy, type Settled } from './zone-copy.js';
import { docToRRset, isGoneRRsetDoc, isRRsetDoc, isZoneDoc, rrsetDocPrefix, RRSET_PREFIX, ZONE_PREFIX, type GoneRRsetDoc, type RRsetDoc } from './zone-docs.js';
import { inlineDocs } from './inline-rrsets.js';
import { patchZoneIndex, zoneIndexSteps, type ZoneIndex } from './zone-index.js';
import { reconcileZone } from './zone-reconcile.js';
import { parseMarker, versionMarker, type Marker } from './zone-version.js';

export interface ZoneSyncOptions {
  store: Store;
  catalog: Catalog;
  logger: Logger;
  registry: Registry;
  /** Changes arriving within this window are applied together (an import writes many documents at once). */
  debounceMs?: number;
  /** Local snapshot + checkpoint: start from it when the store is unreachable, catch up from it when it is back. */
  snapshot?: SnapshotStore;
  /** Told when the data is in sync with the store and when the feed is lost. */
  health?: StoreHealth;
  /** Reconnection backoff cap (default 5 s: a node polling its own database that often costs nothing). */
  maxBackoffMs?: number;
  /**
   * How long a zone may hold the documents of an incomplete version before serving what it has (default 60 s):
   * a version whose documents never all arrive (a conflict, a write that failed half way) must not stop the zone.
   */
  versionWaitMs?: number;
  /**
   * How long a zone may hold back a version without progress before the node says stale (default 10 s): it answers
   * older data than its store holds, which a complete version switches to within moments.
   */
  heldStaleMs?: number;
  /**
   * Set on the one process per node that repairs serials (zone-reconcile.ts): after a zone document changes (a
   * conflict between versions arrives as a change), and when a zone's content has differed from its version for
   * `divergedMs` (default 60 s). `delayMs` lets replication settle first; give each node a different one, so that
   * usually one node repairs and the others see its repair.
   */
  reconcile?: { delayMs: number; divergedMs?: number };
}

const MAX_BACKOFF_MS = 5_000;
/** How often the snapshot is written when only its checkpoint moved. */
const CHECKPOINT_ONLY_MS = 30_000;
const VERSION_WAIT_MS = 60_000;
const HELD_STALE_MS = 10_000;
/** Catch-up reads the feed in pages of this many; the page count is bounded so a broken feed cannot loop us. */
const CATCH_UP_PAGE = 500;
const CATCH_UP_MAX_PAGES = 100_000;
/** Zones read at once by the full read: one at a time, start-up waits on each document read in turn. */
const READ_CONCURRENCY = 8;
/** A change of more names than this rebuilds the zone (in slices) instead of patching its index at once. */
const PATCH_MAX_NAMES = 2048;
/** Zones with fewer RRsets than this are built at once; bigger ones in slices (slices.ts). */
const BUILD_AT_ONCE = 2000;

/** A serial repair waits for the zone to go quiet, but never more than this many delays after it was first due. */
const RECONCILE_MAX_WAITS = 10;

export class ZoneSync {
  private readonly copies = new Map<string, ZoneCopy>();
  /** Ids whose document names another zone or name than its id says: a deletion in the feed carries no body to tell. */
  private readonly strays = new Map<string, { zone: string; name: string }>();
  /** Zones being read because their zone document came by the feed → ids the feed changed meanwhile. */
  private readonly loading = new Map<string, Set<string>>();
  /** Zones whose index is being built aside (in slices): their changes wait until it is swapped in. */
  private readonly building = new Set<string>();
  /** Zones whose index is behind their served documents (the last build failed): rebuilt whole on the next change. */
  private readonly broken = new Set<string>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private follower: RetryingFollower | undefined;
  /** Lets start() return: called once the first sync succeeded or failed, or by stop() while it is under way. */
  private releaseStart: (() => void) | undefined;
  private stopped = false;
  private lastSeq = '0';
  /** Changes taken in (documents that were not already here); the snapshot was last written at `savedMutations`. */
  private mutations = 0;
  private savedMutations = -1;
  private savedAt = 0;
  private readonly listeners = new Set<() => void>();
  private readonly builds: Counter<'result'>;
  private readonly updates: Counter<'kind'>;
  private readonly versions: Counter<'result'>;
  private readonly changes: Counter;
  private readonly syncs: Counter<'mode'>;
  /** lastSeq was issued by this store (false before the first sync, or after a snapshot from another store). */
  private seqValid = false;
  private readonly versionWaitMs: number;
  private readonly reconciles: Counter<'result'>;
  private readonly reconcileTimers = new Map<string, { timer: NodeJS.Timeout; force: boolean; since: number }>();
  /** Zones whose content differs from their version → since when (ms). */
  private readonly divergedSince = new Map<string, number>();
  private divergedTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ZoneSyncOptions) {
    this.versionWaitMs = options.versionWaitMs ?? VERSION_WAIT_MS;
    const registers = [options.registry];
    this.builds = new Counter({ name: 'edgedns_zone_builds_total', help: 'Zone index builds and patches, by result', labelNames: ['result'], registers });
    this.updates = new Counter({
      name: 'edgedns_zone_index_updates_total',
      help: 'Zone indexes updated: patched (only the changed names) or built whole',
      labelNames: ['kind'],
      registers,
    });
    this.versions = new Counter({
      name: 'edgedns_zone_versions_total',
      help: 'Zone versions switched to: complete (every document of the version was here) or forced (waited too long)',
      labelNames: ['result'],
      registers,
    });
    this.changes = new Counter({ name: 'edgedns_store_changes_total', help: 'Documents received from the store changes feed', registers });
    const zoneGauge: Gauge = new Gauge({ name: 'edgedns_zones', help: 'Zones being served', registers, collect: () => zoneGauge.set(options.catalog.size) });
    const waiting: Gauge = new Gauge({
      name: 'edgedns_zone_versions_waiting',
      help: 'Zones holding back the documents of a version until all of it is here',
      registers,
      collect: () => waiting.set(this.status().waiting.length),
    });
    const waitAge: Gauge = new Gauge({
      name: 'edgedns_zone_version_wait_seconds',
      help: 'How long the zone that has waited longest for the rest of a version has waited',
      registers,
      collect: () => waitAge.set(Math.max(0, ...this.status().waiting.map((w) => w.seconds))),
    });
    const diverged: Gauge = new Gauge({
      name: 'edgedns_zone_diverged',
      help: 'Zones whose content differs from the version their zone document names (an edit made straight in the store, a conflict)',
      registers,
      collect: () => diverged.set(this.status().diverged.length),
    });
    this.reconciles = new Counter({
      name: 'edgedns_zone_reconciles_total',
      help: 'Zone serial repairs (a version merged after a conflict, or written for content changed outside a version), by result',
      labelNames: ['result'],
      registers,
    });
    this.syncs = new Counter({
      name: 'edgedns_store_syncs_total',
      help: 'Times the zone data was brought in sync with the store: full read, or catch-up from the checkpoint',
      labelNames: ['mode'],
      registers,
    });
  }

  /**
   * Serves the local snapshot first when there is one, then brings it in sync with the store: from the checkpoint
   * when it has one, else by a full read. With the store unreachable it keeps what it has (snapshot or nothing),
   * and the follower reconnects in the background with capped backoff.
   */
  async start(): Promise<void> {
    const snapshot = await this.options.snapshot?.load();
    if (snapshot) {
      this.restore([...snapshot.docs]);
      await this.flushNow();
      this.seqValid = snapshot.checkpoint.storeId === this.options.store.description;
      this.lastSeq = snapshot.checkpoint.seq;
      this.options.health?.restoredFrom(Date.parse(snapshot.checkpoint.syncedAt));
      this.options.logger.info({ zones: this.options.catalog.size, syncedAt: snapshot.checkpoint.syncedAt }, 'serving the local snapshot');
    }
    // The first sync is awaited (a node starts with its zones loaded when the store answers); later ones, after an
    // outage, run inside the follower's retries.
    let first: (() => void) | undefined;
    const started = new Promise<void>((resolve) => (first = resolve));
    this.releaseStart = () => {
      first?.();
      first = undefined;
    };
    let outage = false;
    this.follower = new RetryingFollower(this.options.store, {
      since: this.lastSeq,
      prefixes: [ZONE_PREFIX, RRSET_PREFIX],
      maxBackoffMs: this.options.maxBackoffMs ?? MAX_BACKOFF_MS,
      resume: () => this.connect(),
      onFollowing: () => {
        if (outage) this.options.logger.info('store reachable again; in sync');
        outage = false;
        this.options.health?.markSynced();
        this.saveSnapshot(true);
        first?.();
        first = undefined;
      },
      onChange: (change) => this.onChange(change),
      onError: (err, retryInMs) => {
        // The data stays served; its age now grows until the follower catches up from lastSeq.
        this.options.health?.markDown();
        if (first) this.options.logger.warn({ err: err.message, retryInMs }, 'store unreachable at start; serving what the snapshot holds and reconnecting');
        else this.options.logger.warn({ err: err.message, retryInMs }, outage ? 'store still unreachable' : 'changes feed failed; reconnecting');
        outage = true;
        first?.();
        first = undefined;
      },
    });
    this.follower.start();
    await started;
  }

  /** Brings memory in sync with the store; answers the checkpoint to follow the feed from. */
  private async connect(): Promise<string> {
    if (this.seqValid) await this.catchUp();
    else await this.fullRead();
    // A zone whose read failed while the store was away is read again now.
    if (!this.stopped) for (const [name, copy] of this.copies) if (copy.doc && !copy.loaded) this.loadIfNew(name);
    return this.lastSeq;
  }

  private async fullRead(): Promise<void> {
    const { store } = this.options;
    const seq = await store.updateSeq();
    const zoneDocs = (await store.list(ZONE_PREFIX)).filter(isZoneDoc);
    // Replace, not merge: whatever the snapshot held that the store no longer has must go.
    const before = [...this.copies.keys()];
    this.copies.clear();
    this.strays.clear();
    this.loading.clear();
    this.broken.clear();
    const copies: ZoneCopy[] = [];
    for (const doc of zoneDocs) {
      const copy = this.copyOf(doc.name);
      copy.doc = doc;
      // The index in the catalog (from the snapshot) may hold names the store no longer has: built whole.
      this.broken.add(doc.name);
      // What the store holds now is what there is to serve: its documents are taken as the version it names, and
      // only those of a newer version (still arriving) are held.
      copy.applied = copy.version && { serial: copy.version.serial, hash: copy.version.hash };
      copies.push(copy);
    }
    await forEachLimited(copies, READ_CONCURRENCY, async (copy) => {
      const docs = await store.list(rrsetDocPrefix(copy.zone));
      if (this.copies.get(copy.zone) !== copy) return;
      for (const doc of docs) this.take(doc, 'read');
      for (const doc of inlineDocs(copy.doc)) this.takeRRset(doc, 'read');
      copy.loaded = true;
      // Built now, while other zones are still being read: reads wait on the disk, builds on the CPU.
      this.dirty.delete(copy.zone);
      this.count(copy.settle(Date.now(), this.versionWaitMs));
      await this.update(copy);
    });
    for (const name of before) if (!this.copies.has(name)) this.options.catalog.delete(name);
    this.lastSeq = seq;
    this.seqValid = true;
    await this.flushNow();
    this.syncs.labels('full').inc();
  }

  private async catchUp(): Promise<void> {
    const { store } = this.options;
    let applied = 0;
    for (let page = 0; page < CATCH_UP_MAX_PAGES; page++) {
      const batch = await store.changes(this.lastSeq, CATCH_UP_PAGE);
      for (const change of batch.results) this.takeChange(change);
      applied += batch.results.length;
      this.lastSeq = batch.lastSeq;
      if (batch.results.length === 0) break;
    }
    await this.flushNow();
    this.syncs.labels('checkpoint').inc();
    this.options.logger.info({ changes: applied }, 'caught up from the checkpoint');
  }

  /** Takes the snapshot's documents back in: each zone at the version it served when the snapshot was taken. */
  private restore(docs: StoredDoc[]): void {
    const applied = new Map<string, Marker>();
    for (const doc of docs) {
      const served = appliedRecord(doc);
      if (served) applied.set(served.zone, served.marker);
    }
    for (const doc of docs) {
      if (!isZoneDoc(doc)) continue;
      const copy = this.copyOf(doc.name);
      copy.doc = doc;
      copy.applied = applied.get(doc.name);
    }
    for (const doc of docs) if (!isZoneDoc(doc) && !appliedRecord(doc)) this.take(doc, 'read');
    // The snapshot held every document, including RRsets of zones that had no zone document yet.
    for (const copy of this.copies.values()) copy.loaded = true;
  }

  /**
   * Writes the snapshot. After a flush that changed nothing (the feed bringing back this node's own writes: 100,000
   * documents after a big import) only the checkpoint would move, so it is written at most every CHECKPOINT_ONLY_MS,
   * and likewise while a version is held back: each write of a big zone's snapshot makes its documents again, and
   * that garbage was what raised the peak memory of an import. Catching up from an older checkpoint only reads
   * those changes again.
   */
  private saveSnapshot(force = false): void {
    const { snapshot, store, health } = this.options;
    if (!snapshot || !this.seqValid) return;
    const now = Date.now();
    if (!force && now - this.savedAt < CHECKPOINT_ONLY_MS) {
      if (this.mutations === this.savedMutations) return;
      // While a zone holds back a version (an import on its way), the last snapshot and its older checkpoint stand:
      // catching up from it brings the held documents again. Written once the version is served, or after the wait.
      for (const copy of this.copies.values()) if (copy.heldSince !== undefined) return;
    }
    this.savedMutations = this.mutations;
    this.savedAt = now;
    snapshot.schedule(() => {
      // The checkpoint first: catching up from it brings again whatever changes while the documents are gathered.
      const checkpoint = { seq: this.lastSeq, storeId: store.description, syncedAt: new Date(health?.syncedAt() ?? Date.now()).toISOString() };
      // Each zone's state is taken at once; its documents are unpacked one name at a time as they are written.
      const copies = [...this.copies.values()].map((copy) => ({ applied: copy.applied && appliedDoc(copy.zone, copy.applied), docs: copy.snapshot() }));
      function* docs(): Generator<StoredDoc> {
        for (const copy of copies) {
          if (copy.applied) yield copy.applied;
          yield* copy.docs;
        }
      }
      return { checkpoint, docs: docs() };
    });
  }

  /** Names of the zones that exist (have a zone document), served or not yet. */
  zoneNames(): string[] {
    return [...this.copies.values()].filter((copy) => copy.doc).map((copy) => copy.zone).sort();
  }

  /** The zone's RRset documents as served (with changes about to be), as new objects each call. */
  rrsetDocs(zone: string): RRsetDoc[] {
    return this.copies.get(zone)?.docs() ?? [];
  }

  /** How many RRset documents the zone has, without unpacking them. */
  rrsetCount(zone: string): number {
    return this.copies.get(zone)?.rrsetCount ?? 0;
  }

  /**
   * Per zone, its RRset documents that have `field` (ACME expiries), leaving out zones with none: cheaper than
   * rrsetDocs over every zone, which unpacks them all.
   */
  rrsetDocsWith(field: string): [string, RRsetDoc[]][] {
    const out: [string, RRsetDoc[]][] = [];
    for (const zone of this.zoneNames()) {
      const copy = this.copies.get(zone) as ZoneCopy;
      if (!copy.fields.has(field) && copy.pendingChanges === 0) continue;
      const docs = copy.docs().filter((doc) => doc[field] !== undefined);
      if (docs.length > 0) out.push([zone, docs]);
    }
    return out;
  }

  hasZone(zone: string): boolean {
    return this.copies.get(zone)?.doc !== undefined;
  }

  /** Zones holding back an incomplete version, and zones whose content differs from their version (for /healthz). */
  status(now = Date.now()): { waiting: { zone: string; seconds: number; documents: number }[]; diverged: string[] } {
    const waiting: { zone: string; seconds: number; documents: number }[] = [];
    const diverged: string[] = [];
    for (const copy of this.copies.values()) {
      if (!copy.doc) continue;
      if (copy.heldSince !== undefined) waiting.push({ zone: copy.zone, seconds: Math.floor((now - copy.heldSince) / 1000), documents: copy.holding });
      if (copy.diverged) diverged.push(copy.zone);
    }
    return { waiting, diverged };
  }

  /** Calls back after each batch of changes has been applied to the catalog (tests and API waits use it). */
  onApplied(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.releaseStart?.();
    if (this.timer) clearTimeout(this.timer);
    if (this.waitTimer) clearTimeout(this.waitTimer);
    if (this.divergedTimer) clearTimeout(this.divergedTimer);
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.options.health?.setStale('zone-versions', undefined);
    for (const { timer } of this.reconcileTimers.values()) clearTimeout(timer);
    this.reconcileTimers.clear();
    await this.follower?.stop();
    await Promise.all(this.reconciling);
    await this.options.snapshot?.flush();
  }

  private onChange(change: Change): void {
    this.changes.inc();
    this.lastSeq = change.seq;
    this.takeChange(change);
    this.scheduleFlush();
  }

  private takeChange(change: Change): void {
    if (change.deleted || !change.doc) this.remove(change.id);
    else this.take(change.doc, 'feed');
  }

  private scheduleFlush(): void {
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.options.debounceMs ?? 10);
  }

  private copyOf(zone: string): ZoneCopy {
    let copy = this.copies.get(zone);
    if (!copy) {
      copy = new ZoneCopy(zone);
      this.copies.set(zone, copy);
    }
    return copy;
  }

  /**
   * Documents this process has just written (write-through.ts): taken in at once, as if the feed had brought them,
   * so the node serving its own write does not wait on the feed's round trip. The feed brings them again later;
   * they are the same revisions then, and nothing happens.
   */
  written(docs: readonly StoredDoc[]): void {
    if (this.stopped) return;
    let any = false;
    for (const doc of docs) {
      if (!doc._id.startsWith(ZONE_PREFIX) && !doc._id.startsWith(RRSET_PREFIX)) continue;
      this.take(doc, 'written');
      any = true;
    }
    if (any) this.scheduleFlush();
  }

  /**
   * How a document came: by the changes feed (a zone new to us must have its RRsets read), written by this process
   * (it must not undo a later revision the feed brought first), or read from the store or the snapshot (what the
   * store holds is what there is to serve: nothing in it is held for being of another side's lineage).
   */
  private take(doc: StoredDoc, how: 'feed' | 'written' | 'read'): void {
    const fromFeed = how !== 'read';
    const onlyNewer = how === 'written';
    if (doc._deleted) return this.remove(doc._id);
    if (isZoneDoc(doc)) {
      const copy = this.copyOf(doc.name);
      if (onlyNewer && copy.doc?._rev !== undefined && revisionNumber(copy.doc._rev) >= revisionNumber(doc._rev)) return;
      if (copy.doc?._rev !== doc._rev || doc._rev === undefined) this.mutations++;
      copy.doc = doc;
      this.dirty.add(doc.name);
      // The RRsets it carries (inline-rrsets.ts): the same revisions each time it comes, until a write changes them.
      for (const inline of inlineDocs(doc)) this.takeRRset(inline, how);
      // A conflict between two versions arrives as a change of the zone document (its winner may stay the same).
      if (how === 'feed') this.scheduleReconcile(doc.name, false);
      // A new zone whose RRsets all came before its zone document (as a bulk write sends them) is complete already.
      if (!copy.loaded && !this.loading.has(doc.name) && copy.holdsWhole()) copy.loaded = true;
      if (fromFeed) this.loadIfNew(doc.name);
    } else if (isRRsetDoc(doc) || isGoneRRsetDoc(doc)) {
      this.takeRRset(doc, how);
    }
  }

  private takeRRset(doc: RRsetDoc | GoneRRsetDoc, how: 'feed' | 'written' | 'read'): void {
    this.loading.get(doc.zone)?.add(doc._id);
    const copy = this.copyOf(doc.zone);
    if (copy.nameOfId(doc._id) === doc.name) this.strays.delete(doc._id);
    else this.strays.set(doc._id, { zone: doc.zone, name: doc.name });
    if (copy.receive(doc._id, doc.name, doc, Date.now(), { onlyNewer: how === 'written', asRead: how === 'read' }) !== 'same') this.mutations++;
    this.dirty.add(doc.zone);
    // A repair waits for the zone to go quiet: the other side's documents are still arriving.
    if (how === 'feed' && this.reconcileTimers.has(doc.zone)) this.scheduleReconcile(doc.zone, false);
  }

  private remove(id: string): void {
    this.mutations++;
    if (id.startsWith(ZONE_PREFIX)) {
      const name = id.slice(ZONE_PREFIX.length);
      const copy = this.copies.get(name);
      if (copy?.doc) {
        copy.doc = undefined;
        this.loading.delete(name);
        this.dirty.add(name);
      }
      return;
    }
    const stray = this.strays.get(id);
    if (stray !== undefined) {
      this.strays.delete(id);
      this.loading.get(stray.zone)?.add(id);
      this.copies.get(stray.zone)?.receive(id, stray.name, null, Date.now());
      this.dirty.add(stray.zone);
      return;
    }
    if (!id.startsWith(RRSET_PREFIX)) return;
    // rrset/<zone>/<name>/<type>: the zone ends at a "./" (a name may hold "/", so every such place is tried).
    for (let end = id.indexOf('./', RRSET_PREFIX.length); end >= 0; end = id.indexOf('./', end + 1)) {
      const copy = this.copies.get(id.slice(RRSET_PREFIX.length, end + 1));
      const name = copy?.nameOfId(id);
      if (copy && name !== undefined) {
        this.loading.get(copy.zone)?.add(id);
        copy.receive(id, name, null, Date.now());
        this.dirty.add(copy.zone);
      }
    }
  }

  /**
   * A zone document that came after the full read may have RRsets stored before it (replication does not keep
   * their order): read them, without undoing what the feed brings meanwhile. The zone is built once they are in.
   */
  private loadIfNew(zone: string): void {
    const copy = this.copies.get(zone);
    if (!copy || copy.loaded || this.loading.has(zone) || this.stopped) return;
    const touched = new Set<string>();
    this.loading.set(zone, touched);
    const done = (): boolean => {
      if (this.loading.get(zone) !== touched || this.copies.get(zone) !== copy) return false;
      this.loading.delete(zone);
      copy.loaded = true;
      this.dirty.add(zone);
      this.scheduleFlush();
      return true;
    };
    this.options.store.list(rrsetDocPrefix(zone)).then(
      (docs) => {
        if (this.loading.get(zone) !== touched || this.copies.get(zone) !== copy) return;
        for (const doc of docs) if (!touched.has(doc._id)) this.take(doc, 'read');
        done();
      },
      (err: unknown) => {
        // Served from what the feed brought; connect() reads it again once the store is back.
        if (done()) this.options.logger.warn({ zone, err: (err as Error).message }, 'cannot read the RRsets of a new zone; serving what the feed brought');
      },
    );
  }

  private async flushNow(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }

  /** Settles and applies every zone that changed; big builds run in slices, each zone on its own. */
  private async flush(): Promise<void> {
    this.timer = undefined;
    const now = Date.now();
    const updates: Promise<void>[] = [];
    for (const name of this.dirty) {
      const copy = this.copies.get(name);
      if (!copy) {
        this.dirty.delete(name);
        continue;
      }
      // A zone still being read or built stays dirty: it is applied when that is done.
      if (this.loading.has(name) || this.building.has(name)) continue;
      this.dirty.delete(name);
      this.count(copy.settle(now, this.versionWaitMs));
      updates.push(this.update(copy));
    }
    this.scheduleWait(now);
    this.watchDivergence(now);
    const pending = updates.length > 0 ? Promise.all(updates) : undefined;
    // Patches finish at once; only slice-built zones are awaited before telling the listeners.
    if (pending) await pending;
    this.saveSnapshot();
    for (const listener of this.listeners) listener();
  }

  private count(settled: Settled): void {
    // A version switched to changes what is served (and what the snapshot holds) without a document arriving.
    if (settled) this.mutations++;
    if (settled === 'complete') this.versions.labels('complete').inc();
    if (settled === 'forced') {
      this.versions.labels('forced').inc();
      this.options.logger.warn('a zone version did not arrive whole in time; serving what is here');
    }
  }

  private readonly reconciling = new Set<Promise<unknown>>();

  /**
   * Repairs the zone's serial once no document of the zone has arrived for the delay (at most RECONCILE_MAX_WAITS
   * delays after the first call), so that nodes repairing the same conflict have received the same documents and
   * write the same version. A forced repair wins over a plain check already scheduled.
   */
  private scheduleReconcile(zone: string, force: boolean): void {
    const options = this.options.reconcile;
    if (!options || this.stopped || !this.options.store.conflicts) return;
    const scheduled = this.reconcileTimers.get(zone);
    const now = Date.now();
    const since = scheduled?.since ?? now;
    if (scheduled && now - since >= options.delayMs * RECONCILE_MAX_WAITS) {
      scheduled.force ||= force;
      return;
    }
    if (scheduled) clearTimeout(scheduled.timer);
    const timer = setTimeout(() => {
      const force = this.reconcileTimers.get(zone)?.force ?? false;
      this.reconcileTimers.delete(zone);
      const run = reconcileZone(this.options.store, zone, { force })
        .then((result) => {
          this.reconciles.labels(result).inc();
          if (result === 'merged' || result === 'rewritten') this.options.logger.info({ zone, result }, 'zone serial repaired: a new version names the zone\'s content');
        })
        .catch((err: unknown) => {
          this.reconciles.labels('failed').inc();
          this.options.logger.warn({ zone, err: (err as Error).message }, 'zone serial repair failed; tried again on the next change');
        });
      this.reconciling.add(run);
      void run.finally(() => this.reconciling.delete(run));
    }, options.delayMs);
    timer.unref();
    this.reconcileTimers.set(zone, { timer, force: force || (scheduled?.force ?? false), since });
  }

  /** Zones whose content has differed from their version for long are given a new version. */
  private watchDivergence(now: number): void {
    const options = this.options.reconcile;
    if (!options) return;
    const limit = options.divergedMs ?? VERSION_WAIT_MS;
    for (const copy of this.copies.values()) {
      if (copy.doc && copy.diverged) {
        const since = this.divergedSince.get(copy.zone) ?? now;
        this.divergedSince.set(copy.zone, since);
        if (now - since >= limit) {
          this.divergedSince.set(copy.zone, now);
          this.scheduleReconcile(copy.zone, true);
        }
      } else this.divergedSince.delete(copy.zone);
    }
    if (this.divergedTimer) clearTimeout(this.divergedTimer);
    this.divergedTimer = undefined;
    if (this.divergedSince.size === 0 || this.stopped) return;
    const first = Math.min(...this.divergedSince.values());
    this.divergedTimer = setTimeout(() => {
      this.divergedTimer = undefined;
      this.watchDivergence(Date.now());
    }, Math.max(10, first + limit - now));
    this.divergedTimer.unref();
  }

  private heldTimer: NodeJS.Timeout | undefined;

  /** Says stale while a zone has held back a version, without progress, for longer than heldStaleMs. */
  private reportHeld(now: number): void {
    const { health } = this.options;
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    if (!health || this.stopped) return;
    const limit = this.options.heldStaleMs ?? HELD_STALE_MS;
    const late: ZoneCopy[] = [];
    let next: number | undefined;
    for (const copy of this.copies.values()) {
      if (copy.heldSince === undefined || !copy.doc) continue;
      if (now - copy.heldSince >= limit) late.push(copy);
      else next = Math.min(next ?? Infinity, copy.heldSince + limit);
    }
    const since = Math.min(...late.map((c) => c.heldSince as number));
    const text = late.map((c) => `zone ${c.zone} waits for the rest of a version (${c.holding} document(s) held ${Math.floor((now - (c.heldSince as number)) / 1000)} s)`).join('; ');
    health.setStale('zone-versions', late.length === 0 ? undefined : { text, kind: 'version-waiting', since });
    if (next === undefined) return;
    this.heldTimer = setTimeout(() => this.reportHeld(Date.now()), Math.max(10, next - now));
    this.heldTimer.unref();
  }

  /** Wakes the flush when the zone that has held a version longest reaches the wait limit. */
  private scheduleWait(now: number): void {
    this.reportHeld(now);
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    let first: number | undefined;
    for (const copy of this.copies.values()) if (copy.heldSince !== undefined) first = Math.min(first ?? Infinity, copy.heldSince);
    if (first === undefined || this.stopped) return;
    this.waitTimer = setTimeout(
      () => {
        this.waitTimer = undefined;
        for (const copy of this.copies.values()) if (copy.heldSince !== undefined) this.dirty.add(copy.zone);
        void this.flush();
      },
      Math.max(0, first + this.versionWaitMs - now),
    );
    this.waitTimer.unref();
  }

  /**
   * Serves what the copy has ready: the zone removed, patched, or built whole. Big work (many documents, a big
   * zone) runs in slices with the zone marked as building, so its later changes wait and other zones answer.
   */
  private async update(copy: ZoneCopy): Promise<void> {
    const { catalog, logger } = this.options;
    const name = copy.zone;
    if (!copy.doc) {
      copy.applyReady();
      if (catalog.get(name)) logger.info({ zone: name }, 'zone removed');
      catalog.delete(name);
      this.broken.delete(name);
      // A deleted zone's documents go with it (its gone markers, arriving late, then find nothing to remove).
      if (copy.loaded || (copy.rrsetCount === 0 && copy.holding === 0)) this.copies.delete(name);
      return;
    }
    if (!copy.loaded) return;
    this.building.add(name);
    try {
      const before = copy.readyCount < BUILD_AT_ONCE ? copy.applyReady() : await runSliced(copy.applyReadySteps());
      const fresh = copy.takeFresh();
      if (this.copies.get(name) !== copy || !copy.doc) return;
      const index = catalog.get(name);
      if (index && before.size === 0 && !this.broken.has(name)) return;
      // Nothing served yet and nothing to serve (the zone's documents are all held): wait for them.
      if (!index && copy.rrsetCount === 0) return;
      if (index && !this.broken.has(name) && this.patchable(copy, index, before)) return this.patch(copy, index, before);
      await this.build(copy, fresh);
    } finally {
      this.building.delete(name);
      // Changes that came meanwhile wait for the next flush.
      if (this.dirty.has(name) && !this.stopped) this.scheduleFlush();
    }
  }

  /** A patch fits: few names changed, none of them a delegation, and the index is not mostly patches already. */
  private patchable(copy: ZoneCopy, index: ZoneIndex, before: Map<string, RRsetDoc[]>): boolean {
    if (before.size > PATCH_MAX_NAMES || index.patched + before.size > Math.max(PATCH_MAX_NAMES, index.nodes.size)) return false;
    for (const [name, old] of before) {
      if (name === copy.zone) continue;
      if (old.some((doc) => doc.rrtype === 'NS') || copy.docsAt(name).some((doc) => doc.rrtype === 'NS')) return false;
    }
    return true;
  }

  /** Patches the changed names into the index, after checking them against their surroundings. */
  private patch(copy: ZoneCopy, index: ZoneIndex, before: Map<string, RRsetDoc[]>): void {
    const { catalog, logger } = this.options;
    const name = copy.zone;
    try {
      const changed = new Map<string, RRset[]>();
      for (const owner of before.keys()) changed.set(owner, copy.rrsetsAt(owner));
      // The surroundings: the apex (SOA, NS) and the delegations above each changed name.
      const around: RRset[] = before.has(name) ? [] : copy.docsAt(name).map(docToRRset);
      for (const owner of before.keys()) {
        for (let node = parentOf(index, owner, name); node; node = parentOf(index, node.key, name)) {
          if (node.rrsets.has(Type.NS)) around.push(...copy.docsAt(node.key).filter((doc) => doc.rrtype === 'NS').map(docToRRset));
        }
      }
      const parsed = new Map<RRset, ParsedRdata[]>();
      const zone: Zone = { name, rrsets: [...[...changed.values()].flat(), ...around] };
      const problems = validateZone(zone, parsed).filter((p) => changed.has(p.name) || p.name === name);
      if (problems.length > 0) throw new ZoneValidationError(name, problems);
      catalog.set(name, patchZoneIndex(index, name, changed, parsed));
      this.builds.labels('ok').inc();
      this.updates.labels('patch').inc();
    } catch (err) {
      // Mid-way through a write made outside a version the zone can be briefly incomplete: keep the last good index.
      this.broken.add(name);
      this.builds.labels('failed').inc();
      logger.warn({ zone: name, err: (err as Error).message }, 'zone index update failed; keeping the previous version');
    }
  }

  /** Builds the zone's index whole from its served documents (in slices when big) and swaps it in. */
  private async build(copy: ZoneCopy, fresh?: RRsetDoc[]): Promise<void> {
    const { catalog, logger } = this.options;
    const name = copy.zone;
    const steps = buildSteps(copy, fresh);
    try {
      const index = copy.rrsetCount < BUILD_AT_ONCE ? runAtOnce(steps) : await runSliced(steps);
      if (this.copies.get(name) !== copy || !copy.doc) return;
      catalog.set(name, index);
      this.broken.delete(name);
      this.builds.labels('ok').inc();
      this.updates.labels('build').inc();
      logger.debug({ zone: name, serial: index.soaSerial, rrsets: copy.rrsetCount }, 'zone index built');
    } catch (err) {
      // Mid-way through a write made outside a version the zone can be briefly incomplete: keep the last good index.
      this.broken.add(name);
      this.builds.labels('failed').inc();
      logger.warn({ zone: name, err: (err as Error).message }, 'zone index build failed; keeping the previous version');
    }
  }
}

/**
 * In the snapshot, beside each zone's documents: the version it served (which may be older than the one its zone
 * document names, when that one was still arriving). A `_local/` id: never a document of the store.
 */
const APPLIED_PREFIX = '_local/zone-applied/';

function appliedDoc(zone: string, marker: Marker): StoredDoc {
  return { _id: APPLIED_PREFIX + zone, zone, applied: versionMarker(marker) };
}

function appliedRecord(doc: StoredDoc): { zone: string; marker: Marker } | undefined {
  if (!doc._id.startsWith(APPLIED_PREFIX) || typeof doc.zone !== 'string') return undefined;
  const marker = parseMarker(doc.applied);
  return marker ? { zone: doc.zone, marker } : undefined;
}

/** The parent of `key` in the index while it is below the apex. */
function parentOf(index: ZoneIndex, key: string, apex: string): { key: string; rrsets: { has(type: number): boolean } } | undefined {
  const dot = key.indexOf('.');
  if (key === apex || dot < 0 || dot === key.length - 1) return undefined;
  const parent = key.slice(dot + 1);
  if (parent === apex || !parent.endsWith(apex)) return undefined;
  return index.nodes.get(parent) ?? { key: parent, rrsets: { has: () => false } };
}

/** The zone's served documents (given, when the copy has just served them all) → a checked index, in steps. */
function* buildSteps(copy: ZoneCopy, fresh: RRsetDoc[] | undefined): Steps<ZoneIndex> {
  const rrsets: RRset[] = [];
  let step = 0;
  if (fresh) for (const doc of fresh) rrsets.push(docToRRset(doc));
  else {
    for (const owner of copy.names()) {
      for (const rrset of copy.rrsetsAt(owner)) rrsets.push(rrset);
      if (++step % STEP_ITEMS === 0) yield;
    }
  }
  const zone: Zone = { name: copy.zone, rrsets };
  const parsed = new Map<RRset, ParsedRdata[]>();
  const problems = yield* validateZoneSteps(zone, parsed);
  if (problems.length > 0) throw new ZoneValidationError(zone.name, problems);
  return yield* zoneIndexSteps(zone, parsed);
}

/** Calls `task` for every item, at most `limit` at once; rejects with the first failure. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
