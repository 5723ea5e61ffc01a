// Keeps the catalog equal to the store: a full read at start, then the changes feed. Changed zones are rebuilt
// aside from the documents held in memory and swapped in; a zone that fails to build keeps serving its last good
// index and the failure is logged and counted.
//
// Issue 7 (100,000 RRsets in 1,000 zones): the full read goes zone by zone, several at once, each zone built as soon
// as it is read, so start-up never holds every document at once and is not one document read after another; the
// documents are then held packed per zone (packed-docs.ts), and a change is kept aside until its zone is rebuilt.

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RetryingFollower } from '../store/retrying-follower.js';
import type { Change, Store, StoredDoc } from '../store/store.js';
import type { SnapshotStore } from '../store/snapshot.js';
import type { StoreHealth } from '../store/store-health.js';
import type { Catalog } from './catalog.js';
import type { RRset } from './model.js';
import { packDocs, unpackDocs, type PackedDocs } from './packed-docs.js';
import type { ParsedRdata } from '../proto/rdata.js';
import { assertValidZone } from './validate.js';
import { buildZoneIndex } from './zone-index.js';
import { docsToZone, isRRsetDoc, isZoneDoc, rrsetDocPrefix, RRSET_PREFIX, ZONE_PREFIX, type RRsetDoc, type ZoneDoc } from './zone-docs.js';

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
}

const MAX_BACKOFF_MS = 5_000;
/** Catch-up reads the feed in pages of this many; the page count is bounded so a broken feed cannot loop us. */
const CATCH_UP_PAGE = 500;
const CATCH_UP_MAX_PAGES = 100_000;
/** Zones read at once by the full read: one at a time, start-up waits on each document read in turn. */
const READ_CONCURRENCY = 8;

export class ZoneSync {
  private readonly zones = new Map<string, ZoneDoc>();
  /** Each zone's RRset documents as of its last build, packed. */
  private readonly packed = new Map<string, PackedDocs>();
  /** RRset documents received since their zone's last build: id → document, or null once deleted. */
  private readonly pending = new Map<string, Map<string, RRsetDoc | null>>();
  /** Ids whose document names another zone than its id says: a deletion in the feed carries no body to tell. */
  private readonly strays = new Map<string, string>();
  /** Zones whose RRset documents have all been read (full read, snapshot, or read when the zone appeared). */
  private readonly loaded = new Set<string>();
  /** Zones being read because their zone document came by the feed: ids changed meanwhile, which the read must not undo. */
  private readonly loading = new Map<string, Set<string>>();
  /** Bumped by each full read, so a zone read started before it is dropped. */
  private generation = 0;
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private follower: RetryingFollower | undefined;
  private stopped = false;
  private lastSeq = '0';
  private readonly listeners = new Set<() => void>();
  private readonly builds: Counter<'result'>;
  private readonly changes: Counter;
  private readonly zoneGauge: Gauge;
  private readonly syncs: Counter<'mode'>;
  /** lastSeq was issued by this store (false before the first sync, or after a snapshot from another store). */
  private seqValid = false;

  constructor(private readonly options: ZoneSyncOptions) {
    const registers = [options.registry];
    this.builds = new Counter({ name: 'edgedns_zone_builds_total', help: 'Zone index builds, by result', labelNames: ['result'], registers });
    this.changes = new Counter({ name: 'edgedns_store_changes_total', help: 'Documents received from the store changes feed', registers });
    this.zoneGauge = new Gauge({ name: 'edgedns_zones', help: 'Zones being served', registers, collect: () => this.zoneGauge.set(options.catalog.size) });
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
   * and reconnects in the background with capped backoff.
   */
  async start(): Promise<void> {
    const snapshot = await this.options.snapshot?.load();
    if (snapshot) {
      for (const doc of snapshot.docs) this.apply(doc);
      // The snapshot held every document, including RRsets of zones that had no zone document yet.
      for (const name of [...this.zones.keys(), ...this.pending.keys()]) this.loaded.add(name);
      this.flush();
      this.seqValid = snapshot.checkpoint.storeId === this.options.store.description;
      this.lastSeq = snapshot.checkpoint.seq;
      this.options.health?.restoredFrom(Date.parse(snapshot.checkpoint.syncedAt));
      this.options.logger.info({ zones: this.options.catalog.size, syncedAt: snapshot.checkpoint.syncedAt }, 'serving the local snapshot');
    }
    // The first sync is awaited (a node starts with its zones loaded when the store answers); later ones, after an
    // outage, run inside the follower's retries.
    let first: ((err?: Error) => void) | undefined;
    const started = new Promise<void>((resolve) => (first = () => resolve()));
    let outage = false;
    this.follower = new RetryingFollower(this.options.store, {
      since: this.lastSeq,
      maxBackoffMs: this.options.maxBackoffMs ?? MAX_BACKOFF_MS,
      resume: () => this.connect(),
      onFollowing: () => {
        if (outage) this.options.logger.info('store reachable again; in sync');
        outage = false;
        this.options.health?.markSynced();
        this.saveSnapshot();
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
    if (!this.stopped) for (const name of this.zones.keys()) this.loadIfNew(name);
    return this.lastSeq;
  }

  private async fullRead(): Promise<void> {
    const { store } = this.options;
    const seq = await store.updateSeq();
    const zoneDocs = await store.list(ZONE_PREFIX);
    // Replace, not merge: whatever the snapshot held that the store no longer has must go.
    const before = [...this.zones.keys()];
    this.generation++;
    this.zones.clear();
    this.packed.clear();
    this.pending.clear();
    this.strays.clear();
    this.loaded.clear();
    this.loading.clear();
    for (const doc of zoneDocs) this.apply(doc);
    const names = [...this.zones.keys()];
    const generation = this.generation;
    await forEachLimited(names, READ_CONCURRENCY, async (name) => {
      const docs = await store.list(rrsetDocPrefix(name));
      if (generation !== this.generation) return;
      for (const doc of docs) this.apply(doc);
      this.loaded.add(name);
      // Built now, while other zones are still being read: reads wait on the disk, builds on the CPU.
      this.dirty.delete(name);
      this.build(name);
    });
    for (const name of before) if (!this.zones.has(name)) this.dirty.add(name);
    this.lastSeq = seq;
    this.seqValid = true;
    this.flush();
    this.syncs.labels('full').inc();
  }

  private async catchUp(): Promise<void> {
    const { store } = this.options;
    let applied = 0;
    for (let page = 0; page < CATCH_UP_MAX_PAGES; page++) {
      const batch = await store.changes(this.lastSeq, CATCH_UP_PAGE);
      for (const change of batch.results) {
        if (change.deleted || !change.doc) this.remove(change.id);
        else this.apply(change.doc, true);
      }
      applied += batch.results.length;
      this.lastSeq = batch.lastSeq;
      if (batch.results.length === 0) break;
    }
    this.flush();
    this.syncs.labels('checkpoint').inc();
    this.options.logger.info({ changes: applied }, 'caught up from the checkpoint');
  }

  private saveSnapshot(): void {
    const { snapshot, store, health } = this.options;
    if (!snapshot || !this.seqValid) return;
    snapshot.schedule(() => {
      const zones = new Set([...this.packed.keys(), ...this.pending.keys()]);
      return {
        checkpoint: { seq: this.lastSeq, storeId: store.description, syncedAt: new Date(health?.syncedAt() ?? Date.now()).toISOString() },
        docs: [...this.zones.values(), ...[...zones].flatMap((zone) => this.rrsetDocs(zone))],
      };
    });
  }

  /** Zone documents and RRsets as held in memory (what is served, before validation). */
  zoneNames(): string[] {
    return [...this.zones.keys()].sort();
  }

  /** The zone's RRset documents, as new objects each call (they are held packed). */
  rrsetDocs(zone: string): RRsetDoc[] {
    return [...this.docsOf(zone).values()];
  }

  /** How many RRset documents the zone has, without unpacking them. */
  rrsetCount(zone: string): number {
    return this.pending.has(zone) ? this.docsOf(zone).size : (this.packed.get(zone)?.count ?? 0);
  }

  /**
   * Per zone, its RRset documents that have `field` (ACME expiries), leaving out zones with none: cheaper than
   * rrsetDocs over every zone, which unpacks them all.
   */
  rrsetDocsWith(field: string): [string, RRsetDoc[]][] {
    const out: [string, RRsetDoc[]][] = [];
    for (const zone of this.zoneNames()) {
      if (!this.packed.get(zone)?.fields?.has(field) && !this.pending.has(zone)) continue;
      const docs = this.rrsetDocs(zone).filter((doc) => doc[field] !== undefined);
      if (docs.length > 0) out.push([zone, docs]);
    }
    return out;
  }

  private docsOf(zone: string): Map<string, RRsetDoc> {
    const docs = new Map<string, RRsetDoc>();
    const packed = this.packed.get(zone);
    if (packed !== undefined) for (const doc of unpackDocs(zone, packed)) docs.set(doc._id, doc);
    for (const [id, doc] of this.pending.get(zone) ?? []) {
      if (doc) docs.set(id, doc);
      else docs.delete(id);
    }
    return docs;
  }

  hasZone(zone: string): boolean {
    return this.zones.has(zone);
  }

  /** Calls back after each batch of changes has been applied to the catalog (tests and API waits use it). */
  onApplied(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.follower?.stop();
    await this.options.snapshot?.flush();
  }

  private onChange(change: Change): void {
    this.changes.inc();
    this.lastSeq = change.seq;
    if (change.deleted || !change.doc) this.remove(change.id);
    else this.apply(change.doc, true);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.debounceMs ?? 10);
  }

  /** `fromFeed`: the document came by the changes feed, so a zone new to us must have its RRsets read. */
  private apply(doc: StoredDoc, fromFeed = false): void {
    if (doc._deleted) return this.remove(doc._id);
    if (isZoneDoc(doc)) {
      this.zones.set(doc.name, doc);
      this.dirty.add(doc.name);
      if (fromFeed) this.loadIfNew(doc.name);
    } else if (isRRsetDoc(doc)) {
      if (doc._id.startsWith(rrsetDocPrefix(doc.zone))) this.strays.delete(doc._id);
      else this.strays.set(doc._id, doc.zone);
      this.stage(doc.zone, doc._id, doc);
    }
  }

  private stage(zone: string, id: string, doc: RRsetDoc | null): void {
    let changes = this.pending.get(zone);
    if (!changes) {
      changes = new Map();
      this.pending.set(zone, changes);
    }
    changes.set(id, doc);
    this.loading.get(zone)?.add(id);
    this.dirty.add(zone);
  }

  private remove(id: string): void {
    if (id.startsWith(ZONE_PREFIX)) {
      const name = id.slice(ZONE_PREFIX.length);
      if (this.zones.delete(name)) this.dirty.add(name);
      return;
    }
    const stray = this.strays.get(id);
    if (stray !== undefined) {
      this.strays.delete(id);
      this.stage(stray, id, null);
      return;
    }
    if (!id.startsWith(RRSET_PREFIX)) return;
    // rrset/<zone>/<name>/<type>: the zone ends at a "./" (a name may hold "/", so every such place is tried).
    for (let end = id.indexOf('./', RRSET_PREFIX.length); end >= 0; end = id.indexOf('./', end + 1)) {
      const zone = id.slice(RRSET_PREFIX.length, end + 1);
      if (this.packed.has(zone) || this.pending.has(zone) || this.loading.has(zone)) this.stage(zone, id, null);
    }
  }

  /**
   * A zone document that came after the full read may have RRsets stored before it (replication does not keep
   * their order): read them, without undoing what the feed brings meanwhile. The zone is built once they are in.
   */
  private loadIfNew(zone: string): void {
    if (this.loaded.has(zone) || this.loading.has(zone) || this.stopped) return;
    const touched = new Set<string>();
    this.loading.set(zone, touched);
    const generation = this.generation;
    const done = (): boolean => {
      if (generation !== this.generation || this.loading.get(zone) !== touched) return false;
      this.loading.delete(zone);
      this.dirty.add(zone);
      this.scheduleFlush();
      return true;
    };
    this.options.store.list(rrsetDocPrefix(zone)).then(
      (docs) => {
        if (!done()) return;
        for (const doc of docs) if (!touched.has(doc._id)) this.apply(doc);
        this.loaded.add(zone);
      },
      (err: unknown) => {
        // Built from what the feed brought; connect() reads it again once the store is back.
        if (done()) this.options.logger.warn({ zone, err: (err as Error).message }, 'cannot read the RRsets of a new zone; serving what the feed brought');
      },
    );
  }

  private flush(): void {
    this.timer = undefined;
    for (const name of this.dirty) {
      // A zone still being read stays dirty: it is built when its read is done.
      if (this.loading.has(name)) continue;
      this.dirty.delete(name);
      this.build(name);
    }
    this.saveSnapshot();
    for (const listener of this.listeners) listener();
  }

  /** Packs the zone's new documents and swaps in its index built from them. */
  private build(name: string): void {
    const { catalog, logger } = this.options;
    const changes = this.pending.get(name);
    const docs = changes ? this.docsOf(name) : undefined;
    if (changes && docs) {
      if (docs.size > 0) this.packed.set(name, packDocs(name, docs.values()));
      else this.packed.delete(name);
      this.pending.delete(name);
    }
    if (!this.zones.has(name)) {
      if (catalog.get(name)) logger.info({ zone: name }, 'zone removed');
      catalog.delete(name);
      return;
    }
    try {
      const zone = docsToZone(name, (docs ?? this.docsOf(name)).values());
      const parsed = new Map<RRset, ParsedRdata[]>();
      assertValidZone(zone, parsed);
      const index = buildZoneIndex(zone, parsed);
      catalog.set(name, index);
      this.builds.labels('ok').inc();
      logger.debug({ zone: name, serial: index.soaSerial, rrsets: zone.rrsets.length }, 'zone index built');
    } catch (err) {
      // Mid-way through a multi-document write the zone can be briefly incomplete: keep the last good index.
      this.builds.labels('failed').inc();
      logger.warn({ zone: name, err: (err as Error).message }, 'zone index build failed; keeping the previous version');
    }
  }
}

/** Calls `task` for every item, at most `limit` at once; rejects with the first failure. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
