// Keeps one in-memory index equal to the store's documents under some id prefixes (geo: edge/, pool/, health/;
// pages: site/, deploy/; keys: key/), the pattern every index shares: start from local state when there is some,
// then bring it in sync with the store (from the local checkpoint when it has one, else by a full read), then follow
// the changes feed. Whenever the store is unreachable, at start or later, it keeps serving what it has and tries
// again with a capped, doubling delay until it is back; so an index recovers by itself whatever its first read did.

import type { Logger } from 'pino';
import type { LocalStateFile } from './local-state.js';
import type { SyncTracker } from './store-health.js';
import type { Change, ChangesFollower, Store, StoredDoc } from './store.js';

export interface IndexSyncOptions {
  /** For logs: "geo", "pages", "keys". */
  name: string;
  store: Store;
  prefixes: readonly string[];
  logger: Logger;
  /** Where the documents are kept across restarts; none: always read from the store. */
  local?: LocalStateFile;
  /** Told when the index is in sync with the store, when it loses it, and when it starts from local state. */
  tracker?: SyncTracker;
  /** A document (new or changed) for the index. */
  apply(doc: StoredDoc): void;
  /** A document gone (deleted). */
  remove(id: string): void;
  /** Forget every document: a full read replaces them. */
  reset(): void;
  /** After a batch of changes: rebuild, tell listeners. */
  applied(): void;
  /** Changes arriving within this window are applied together (default 10 ms). */
  debounceMs?: number;
  /** Reconnection delay cap (default 5 s). */
  maxBackoffMs?: number;
}

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const CATCH_UP_PAGE = 500;
const CATCH_UP_MAX_PAGES = 100_000;

export class IndexSync {
  /** The index holds data: from local state or from the store. */
  loaded = false;
  /** Why the store cannot be followed right now; undefined while in sync. */
  feedError: string | undefined;
  readonly #docs = new Map<string, StoredDoc>();
  #lastSeq = '0';
  /** #lastSeq was issued by this store (false before the first sync, or with local state from another store). */
  #seqValid = false;
  #follower: ChangesFollower | undefined;
  #stopped = false;
  #backoffMs = FIRST_BACKOFF_MS;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #applyTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: IndexSyncOptions) {}

  async start(): Promise<void> {
    const copy = await this.options.local?.load();
    if (copy) {
      this.options.reset();
      for (const doc of copy.docs) if (this.#wanted(doc._id)) this.#keep(doc);
      this.options.applied();
      this.#lastSeq = copy.checkpoint.seq;
      this.#seqValid = copy.checkpoint.storeId === this.options.store.description;
      this.options.tracker?.restoredFrom(Date.parse(copy.checkpoint.syncedAt));
      this.loaded = true;
      this.options.logger.info({ index: this.options.name, docs: copy.docs.length, syncedAt: copy.checkpoint.syncedAt }, 'serving local state');
    }
    try {
      await this.#connect();
    } catch (err) {
      this.#lost(err as Error, 'cannot read the store at start; serving what local state holds and trying again');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#applyTimer) clearTimeout(this.#applyTimer);
    await this.#follower?.cancel();
    await this.options.local?.flush();
  }

  async #connect(): Promise<void> {
    if (this.#seqValid) await this.#catchUp();
    else await this.#fullRead();
    if (this.#stopped) return;
    this.options.applied();
    this.loaded = true;
    this.feedError = undefined;
    this.#backoffMs = FIRST_BACKOFF_MS;
    this.options.tracker?.markSynced();
    this.#saveLocal();
    this.#follow();
  }

  async #fullRead(): Promise<void> {
    const { store, prefixes } = this.options;
    const seq = await store.updateSeq();
    const read: StoredDoc[] = [];
    for (const prefix of prefixes) read.push(...(await store.list(prefix)));
    // Replace, not merge: whatever local state held that the store no longer has must go.
    this.options.reset();
    this.#docs.clear();
    for (const doc of read) this.#keep(doc);
    this.#lastSeq = seq;
    this.#seqValid = true;
  }

  async #catchUp(): Promise<void> {
    for (let page = 0; page < CATCH_UP_MAX_PAGES; page++) {
      const batch = await this.options.store.changes(this.#lastSeq, CATCH_UP_PAGE);
      for (const change of batch.results) this.#take(change);
      this.#lastSeq = batch.lastSeq;
      if (batch.results.length === 0) return;
    }
  }

  #follow(): void {
    if (this.#stopped) return;
    this.#follower = this.options.store.follow({
      since: this.#lastSeq,
      onChange: (change) => {
        this.#lastSeq = change.seq;
        if (!this.#take(change)) return;
        this.#applyTimer ??= setTimeout(() => {
          this.#applyTimer = undefined;
          this.options.applied();
          this.#saveLocal();
        }, this.options.debounceMs ?? 10);
      },
      onError: (err) => this.#lost(err, 'changes feed failed; serving what the index holds and reconnecting'),
    });
  }

  #lost(err: Error, what: string): void {
    if (this.#stopped) return;
    this.feedError = err.message;
    this.options.tracker?.markDown();
    this.options.logger.warn({ index: this.options.name, err: err.message, retryInMs: this.#backoffMs }, what);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnectTimer) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.options.maxBackoffMs ?? MAX_BACKOFF_MS);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      const follower = this.#follower;
      this.#follower = undefined;
      void (follower?.cancel() ?? Promise.resolve())
        .then(() => this.#connect())
        .then(
          () => this.options.logger.info({ index: this.options.name }, 'store reachable again; in sync'),
          (err: unknown) => {
            if (this.#stopped) return;
            this.feedError = (err as Error).message;
            this.#scheduleReconnect();
          },
        );
    }, delay);
    this.#reconnectTimer.unref();
  }

  /** Applies a change if it concerns this index; true when it did. */
  #take(change: Change): boolean {
    if (!this.#wanted(change.id)) return false;
    if (change.deleted || !change.doc) {
      this.#docs.delete(change.id);
      this.options.remove(change.id);
    } else this.#keep(change.doc);
    return true;
  }

  #keep(doc: StoredDoc): void {
    if (doc._deleted) {
      this.#docs.delete(doc._id);
      this.options.remove(doc._id);
      return;
    }
    this.#docs.set(doc._id, doc);
    this.options.apply(doc);
  }

  #wanted(id: string): boolean {
    return this.options.prefixes.some((p) => id.startsWith(p));
  }

  #saveLocal(): void {
    const { local, store, tracker } = this.options;
    if (!local || !this.#seqValid) return;
    local.schedule(() => ({
      checkpoint: { seq: this.#lastSeq, storeId: store.description, syncedAt: new Date(tracker?.syncedAt() ?? Date.now()).toISOString() },
      docs: [...this.#docs.values()],
    }));
  }
}
