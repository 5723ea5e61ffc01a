// Keeps the catalog equal to the store: a full read at start, then the changes feed. Changed zones are rebuilt
// aside from the documents held in memory and swapped in; a zone that fails to build keeps serving its last good
// index and the failure is logged and counted.

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Change, ChangesFollower, Store, StoredDoc } from '../store/store.js';
import type { SnapshotStore } from '../store/snapshot.js';
import type { StoreHealth } from '../store/store-health.js';
import type { Catalog } from './catalog.js';
import type { Zone } from './model.js';
import { assertValidZone } from './validate.js';
import { buildZoneIndex } from './zone-index.js';
import { docsToZone, isRRsetDoc, isZoneDoc, ZONE_PREFIX, type RRsetDoc, type ZoneDoc } from './zone-docs.js';

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

export class ZoneSync {
  private readonly zones = new Map<string, ZoneDoc>();
  private readonly rrsets = new Map<string, Map<string, RRsetDoc>>();
  /** Which zone a document id belonged to, since a deletion in the feed carries no body. */
  private readonly owners = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private follower: ChangesFollower | undefined;
  private stopped = false;
  private lastSeq = '0';
  private backoffMs = 250;
  private readonly listeners = new Set<() => void>();
  private readonly builds: Counter<'result'>;
  private readonly changes: Counter;
  private readonly zoneGauge: Gauge;
  private readonly syncs: Counter<'mode'>;
  /** lastSeq was issued by this store (false before the first sync, or after a snapshot from another store). */
  private seqValid = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

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
      this.flush();
      this.seqValid = snapshot.checkpoint.storeId === this.options.store.description;
      this.lastSeq = snapshot.checkpoint.seq;
      this.options.health?.restoredFrom(Date.parse(snapshot.checkpoint.syncedAt));
      this.options.logger.info({ zones: this.options.catalog.size, syncedAt: snapshot.checkpoint.syncedAt }, 'serving the local snapshot');
    }
    try {
      await this.connect();
    } catch (err) {
      this.options.health?.markDown();
      this.options.logger.warn({ err: (err as Error).message }, 'store unreachable at start; serving what the snapshot holds and reconnecting');
      this.scheduleReconnect();
    }
  }

  /** Brings memory in sync with the store, then follows its feed. */
  private async connect(): Promise<void> {
    if (this.seqValid) await this.catchUp();
    else await this.fullRead();
    if (this.stopped) return;
    this.options.health?.markSynced();
    this.saveSnapshot();
    this.follow();
  }

  private async fullRead(): Promise<void> {
    const { store } = this.options;
    const seq = await store.updateSeq();
    const docs = await store.list('');
    // Replace, not merge: whatever the snapshot held that the store no longer has must go.
    for (const name of this.zones.keys()) this.dirty.add(name);
    this.zones.clear();
    this.rrsets.clear();
    this.owners.clear();
    for (const doc of docs) this.apply(doc);
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
        else this.apply(change.doc);
      }
      applied += batch.results.length;
      this.lastSeq = batch.lastSeq;
      if (batch.results.length === 0) break;
    }
    this.flush();
    this.syncs.labels('checkpoint').inc();
    this.options.logger.info({ changes: applied }, 'caught up from the checkpoint');
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? MAX_BACKOFF_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      const follower = this.follower;
      this.follower = undefined;
      void (follower?.cancel() ?? Promise.resolve())
        .then(() => this.connect())
        .then(
          () => {
            this.backoffMs = 250;
            this.options.logger.info('store reachable again; in sync');
          },
          (err: unknown) => {
            this.options.logger.warn({ err: (err as Error).message, retryInMs: this.backoffMs }, 'store still unreachable');
            this.scheduleReconnect();
          },
        );
    }, delay);
    this.reconnectTimer.unref();
  }

  private saveSnapshot(): void {
    const { snapshot, store, health } = this.options;
    if (!snapshot || !this.seqValid) return;
    snapshot.schedule(() => ({
      checkpoint: { seq: this.lastSeq, storeId: store.description, syncedAt: new Date(health?.syncedAt() ?? Date.now()).toISOString() },
      docs: [...this.zones.values(), ...[...this.rrsets.values()].flatMap((docs) => [...docs.values()])],
    }));
  }

  /** Zone documents and RRsets as held in memory (what is served, before validation). */
  zoneNames(): string[] {
    return [...this.zones.keys()].sort();
  }

  rrsetDocs(zone: string): RRsetDoc[] {
    return [...(this.rrsets.get(zone)?.values() ?? [])];
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
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.follower?.cancel();
    await this.options.snapshot?.flush();
  }

  private follow(): void {
    if (this.stopped) return;
    this.follower = this.options.store.follow({
      since: this.lastSeq,
      onChange: (change) => this.onChange(change),
      onError: (err) => {
        this.options.logger.warn({ err: err.message, retryInMs: this.backoffMs }, 'changes feed failed; reconnecting');
        // The data stays served; its age now grows until the reconnect catches up from lastSeq.
        this.options.health?.markDown();
        this.scheduleReconnect();
      },
    });
  }

  private onChange(change: Change): void {
    this.changes.inc();
    this.backoffMs = 250;
    this.lastSeq = change.seq;
    if (change.deleted || !change.doc) this.remove(change.id);
    else this.apply(change.doc);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.debounceMs ?? 10);
  }

  private apply(doc: StoredDoc): void {
    if (doc._deleted) return this.remove(doc._id);
    if (isZoneDoc(doc)) {
      this.zones.set(doc.name, doc);
      this.dirty.add(doc.name);
    } else if (isRRsetDoc(doc)) {
      let docs = this.rrsets.get(doc.zone);
      if (!docs) {
        docs = new Map();
        this.rrsets.set(doc.zone, docs);
      }
      docs.set(doc._id, doc);
      this.owners.set(doc._id, doc.zone);
      this.dirty.add(doc.zone);
    }
  }

  private remove(id: string): void {
    if (id.startsWith(ZONE_PREFIX)) {
      const name = id.slice(ZONE_PREFIX.length);
      if (this.zones.delete(name)) this.dirty.add(name);
      return;
    }
    const zone = this.owners.get(id);
    if (zone === undefined) return;
    this.owners.delete(id);
    this.rrsets.get(zone)?.delete(id);
    this.dirty.add(zone);
  }

  private flush(): void {
    this.timer = undefined;
    const { catalog, logger } = this.options;
    for (const name of this.dirty) {
      if (!this.zones.has(name)) {
        if (catalog.get(name)) logger.info({ zone: name }, 'zone removed');
        catalog.delete(name);
        continue;
      }
      try {
        const zone = docsToZone(name, this.rrsetDocs(name));
        assertValidZone(zone);
        const index = buildZoneIndex(zone);
        catalog.set(name, index);
        this.builds.labels('ok').inc();
        logger.debug({ zone: name, serial: index.soaSerial, rrsets: zone.rrsets.length }, 'zone index built');
      } catch (err) {
        // Mid-way through a multi-document write the zone can be briefly incomplete: keep the last good index.
        this.builds.labels('failed').inc();
        logger.warn({ zone: name, err: (err as Error).message }, 'zone index build failed; keeping the previous version');
      }
    }
    this.dirty.clear();
    this.saveSnapshot();
    for (const listener of this.listeners) listener();
  }
}
