// Keeps the catalog equal to the store: a full read at start, then the changes feed. Changed zones are rebuilt
// aside from the documents held in memory and swapped in; a zone that fails to build keeps serving its last good
// index and the failure is logged and counted.

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Change, ChangesFollower, Store, StoredDoc } from '../store/store.js';
import type { Catalog } from './catalog.js';
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
}

const MAX_BACKOFF_MS = 30_000;

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

  constructor(private readonly options: ZoneSyncOptions) {
    const registers = [options.registry];
    this.builds = new Counter({ name: 'edgedns_zone_builds_total', help: 'Zone index builds, by result', labelNames: ['result'], registers });
    this.changes = new Counter({ name: 'edgedns_store_changes_total', help: 'Documents received from the store changes feed', registers });
    this.zoneGauge = new Gauge({ name: 'edgedns_zones', help: 'Zones being served', registers, collect: () => this.zoneGauge.set(options.catalog.size) });
  }

  async start(): Promise<void> {
    const { store } = this.options;
    const seq = await store.updateSeq();
    for (const doc of await store.list('')) this.apply(doc);
    this.flush();
    this.lastSeq = seq;
    this.follow();
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
    await this.follower?.cancel();
  }

  private follow(): void {
    if (this.stopped) return;
    this.follower = this.options.store.follow({
      since: this.lastSeq,
      onChange: (change) => this.onChange(change),
      onError: (err) => {
        this.options.logger.warn({ err, retryInMs: this.backoffMs }, 'changes feed failed; reconnecting');
        const delay = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
        const follower = this.follower;
        setTimeout(() => {
          void follower?.cancel().finally(() => this.follow());
        }, delay).unref();
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
    for (const listener of this.listeners) listener();
  }
}
