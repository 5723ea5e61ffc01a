// Keeps GeoState equal to the store's edge/, pool/ and health/ documents: a full read at start, then the changes
// feed. Each batch of changes rebuilds the snapshot once. A store that cannot be read at start is retried in the
// background (the node answers with what it has meanwhile: no pools, or the last ones read).

import type { Logger } from 'pino';
import { RetryingFollower } from '../store/retrying-follower.js';
import type { Change, Store, StoredDoc } from '../store/store.js';
import { EDGE_PREFIX, edgeFields, InvalidFieldError, isEdgeDoc, isPoolDoc, normalizeEdge, normalizePool, POOL_PREFIX, poolFields } from './edge-docs.js';
import type { GeoState } from './geo-state.js';
import { HEALTH_PREFIX, isHealthDoc } from './health-docs.js';

const PREFIXES = [EDGE_PREFIX, POOL_PREFIX, HEALTH_PREFIX];

export class GeoSync {
  private follower: RetryingFollower | undefined;
  private stopped = false;
  /** Where the changes feed starts: the end of the full read at start, or "0" when that read failed. */
  private startSeq = '0';
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly state: GeoState,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    try {
      const seq = await this.store.updateSeq();
      for (const prefix of PREFIXES) for (const doc of await this.store.list(prefix)) this.apply(doc);
      this.startSeq = seq;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'cannot read edges and pools from the store yet; following its changes instead');
    }
    this.state.rebuild();
    this.follow();
  }

  /** Calls back after each batch of changes has been applied (API writes wait on it). */
  onApplied(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.follower?.stop();
  }

  private follow(): void {
    if (this.stopped) return;
    this.follower = new RetryingFollower(this.store, {
      since: this.startSeq,
      onChange: (change) => this.onChange(change),
      onError: (err, retryInMs) => this.logger.warn({ err, retryInMs }, 'geo changes feed failed; reconnecting'),
    });
    this.follower.start();
  }

  private onChange(change: Change): void {
    if (!PREFIXES.some((p) => change.id.startsWith(p))) return;
    if (change.deleted || !change.doc) this.remove(change.id);
    else this.apply(change.doc);
    // changes that arrive together (an import, a burst of health writes) build one snapshot
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.state.rebuild();
      for (const listener of this.listeners) listener();
    }, 10);
  }

  private apply(doc: StoredDoc): void {
    if (doc._deleted) return this.remove(doc._id);
    // Documents can come from other nodes and older versions: checked again here, a bad one is skipped and said.
    try {
      if (isEdgeDoc(doc)) this.state.edges.set(doc.name, normalizeEdge({ ...edgeFields(doc) }));
      else if (isPoolDoc(doc)) this.state.pools.set(doc.name, normalizePool({ ...poolFields(doc) }));
      else if (isHealthDoc(doc)) this.state.health.set(doc.node, doc);
    } catch (err) {
      if (!(err instanceof InvalidFieldError)) throw err;
      this.logger.warn({ id: doc._id, field: err.field, err: err.message }, 'invalid edge or pool document in the store; ignored');
    }
  }

  private remove(id: string): void {
    if (id.startsWith(EDGE_PREFIX)) this.state.edges.delete(id.slice(EDGE_PREFIX.length));
    else if (id.startsWith(POOL_PREFIX)) this.state.pools.delete(id.slice(POOL_PREFIX.length));
    else if (id.startsWith(HEALTH_PREFIX)) this.state.health.delete(id.slice(HEALTH_PREFIX.length));
  }
}
