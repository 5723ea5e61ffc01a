// Keeps GeoState equal to the store's edge/, pool/, health/ and forgotten/ documents (store/index-sync.ts: local
// state first, then the store, then its changes feed, recovering by itself whenever the store comes back). Each
// batch of changes rebuilds the snapshot once.

import type { Logger } from 'pino';
import { IndexSync } from '../store/index-sync.js';
import type { LocalStateFile } from '../store/local-state.js';
import type { SyncTracker } from '../store/store-health.js';
import type { Store, StoredDoc } from '../store/store.js';
import { EDGE_PREFIX, edgeFields, InvalidFieldError, isEdgeDoc, isPoolDoc, normalizeEdge, normalizePool, POOL_PREFIX, poolFields } from './edge-docs.js';
import type { GeoState } from './geo-state.js';
import { FORGOTTEN_PREFIX, HEALTH_PREFIX, isForgottenDoc, isHealthDoc } from './health-docs.js';

const PREFIXES = [EDGE_PREFIX, POOL_PREFIX, HEALTH_PREFIX, FORGOTTEN_PREFIX];

export interface GeoSyncOptions {
  /** Edges, pools and the last health view kept on disk, for a start while the store is unreachable. */
  local?: LocalStateFile;
  tracker?: SyncTracker;
}

export class GeoSync {
  private readonly sync: IndexSync;
  private readonly listeners = new Set<() => void>();

  constructor(
    store: Store,
    private readonly state: GeoState,
    private readonly logger: Logger,
    options: GeoSyncOptions = {},
  ) {
    this.sync = new IndexSync({
      name: 'geo',
      store,
      prefixes: PREFIXES,
      logger,
      local: options.local,
      tracker: options.tracker,
      apply: (doc) => this.apply(doc),
      remove: (id) => this.remove(id),
      reset: () => {
        state.edges.clear();
        state.pools.clear();
        state.health.clear();
        state.forgotten.clear();
      },
      applied: () => {
        this.state.rebuild();
        for (const listener of this.listeners) listener();
      },
    });
  }

  async start(): Promise<void> {
    await this.sync.start();
    // Nothing from local state or the store yet: an empty snapshot all the same, so queries read a built one.
    if (!this.sync.loaded) this.state.rebuild();
  }

  /** Calls back after each batch of changes has been applied (API writes wait on it). */
  onApplied(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    await this.sync.stop();
  }

  private apply(doc: StoredDoc): void {
    // Documents can come from other nodes and older versions: checked again here, a bad one is skipped and said.
    try {
      if (isEdgeDoc(doc)) this.state.edges.set(doc.name, normalizeEdge({ ...edgeFields(doc) }));
      else if (isPoolDoc(doc)) this.state.pools.set(doc.name, normalizePool({ ...poolFields(doc) }));
      else if (isHealthDoc(doc)) this.state.health.set(doc.node, doc);
      else if (isForgottenDoc(doc)) this.state.forgotten.set(doc.node, doc.forgottenAt);
    } catch (err) {
      if (!(err instanceof InvalidFieldError)) throw err;
      this.logger.warn({ id: doc._id, field: err.field, err: err.message }, 'invalid edge or pool document in the store; ignored');
    }
  }

  private remove(id: string): void {
    if (id.startsWith(EDGE_PREFIX)) this.state.edges.delete(id.slice(EDGE_PREFIX.length));
    else if (id.startsWith(POOL_PREFIX)) this.state.pools.delete(id.slice(POOL_PREFIX.length));
    else if (id.startsWith(HEALTH_PREFIX)) this.state.health.delete(id.slice(HEALTH_PREFIX.length));
    else if (id.startsWith(FORGOTTEN_PREFIX)) this.state.forgotten.delete(id.slice(FORGOTTEN_PREFIX.length));
  }
}
