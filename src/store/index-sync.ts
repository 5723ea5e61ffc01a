// Keeps one in-memory index equal to the store's documents under some id prefixes (geo: edge/, pool/, health/;
// pages: site/, deploy/; keys: key/), the pattern every index shares: start from local state when there is some,
// then bring it in sync with the store (from the local checkpoint when it has one, else by a full read), then follow
// the changes feed. Whenever the store is unreachable, at start or later, it keeps serving what it has while the
// shared RetryingFollower tries again (catch-up or full read, then the feed) with a capped, doubling delay until the
// store is back; so an index recovers by itself whatever its first read did.

import type { Logger } from 'pino';
import type { LocalStateFile } from './local-state.js';
import { RetryingFollower } from './retrying-follower.js';
import type { SyncTracker } from './store-health.js';
import type { Change, Store, StoredDoc } from './store.js';

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

/** Below the follower's default: these indexes are small, and a node's health and its pages wait on them. */
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
  #follower: RetryingFollower | undefined;
  #stopped = false;
  /** Between a failure and the next sync: that sync is a recovery, and further failures are not news. */
  #outage = false;
  /** Resolves start() once the first attempt has followed the feed or failed (or stop() came first). */
  #starting: (() => void) | undefined;
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
    if (this.#stopped) return;
    // The first attempt is awaited (an index starts loaded when the store answers); later ones run in the background.
    const started = new Promise<void>((resolve) => (this.#starting = resolve));
    this.#follower = new RetryingFollower(this.options.store, {
      since: this.#lastSeq,
      prefixes: this.options.prefixes,
      maxBackoffMs: this.options.maxBackoffMs ?? MAX_BACKOFF_MS,
      resume: () => this.#resume(),
      onFollowing: () => this.#inSync(),
      onChange: (change) => this.#onChange(change),
      onError: (err, retryInMs) => this.#lost(err, retryInMs),
    });
    this.#follower.start();
    await started;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#firstAttemptOver();
    if (this.#applyTimer) clearTimeout(this.#applyTimer);
    await this.#follower?.stop();
    await this.options.local?.flush();
  }

  /** Brings the index in sync with the store; answers the checkpoint to follow the feed from. */
  async #resume(): Promise<string> {
    if (this.#seqValid) await this.#catchUp();
    else await this.#fullRead();
    return this.#lastSeq;
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

  /** The feed is followed again after a catch-up or full read: the index equals the store's documents. */
  #inSync(): void {
    this.options.applied();
    this.loaded = true;
    this.feedError = undefined;
    this.options.tracker?.markSynced();
    this.#saveLocal();
    if (this.#outage) this.options.logger.info({ index: this.options.name }, 'store reachable again; in sync');
    this.#outage = false;
    this.#firstAttemptOver();
  }

  #onChange(change: Change): void {
    if (this.#stopped) return;
    this.#lastSeq = change.seq;
    if (!this.#take(change)) return;
    this.#applyTimer ??= setTimeout(() => {
      this.#applyTimer = undefined;
      this.options.applied();
      this.#saveLocal();
    }, this.options.debounceMs ?? 10);
  }

  /** The feed, a catch-up or a full read failed; the follower tries again after `retryInMs`. */
  #lost(err: Error, retryInMs: number): void {
    this.feedError = err.message;
    this.options.tracker?.markDown();
    const fields = { index: this.options.name, err: err.message, retryInMs };
    const { logger } = this.options;
    if (this.#outage) logger.debug(fields, 'store still unreachable');
    else if (this.#starting) logger.warn(fields, 'cannot read the store at start; serving what local state holds and trying again');
    else logger.warn(fields, 'changes feed failed; serving what the index holds and reconnecting');
    this.#outage = true;
    this.#firstAttemptOver();
  }

  /** The first attempt is over: start() returns. */
  #firstAttemptOver(): void {
    this.#starting?.();
    this.#starting = undefined;
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
