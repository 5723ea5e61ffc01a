// The API keys held in memory, kept equal to the store's key/ documents by store/index-sync.ts and kept in local
// state, so a node checks keys without reading its store and keeps accepting them while the store is down. Keys are
// found by the SHA-256 of the presented secret (the only thing stored); a key not found here is looked up in the
// store by the caller (one created a moment ago on this node may not have come through the feed yet).

import type { Logger } from 'pino';
import { IndexSync } from '../store/index-sync.js';
import type { LocalStateFile } from '../store/local-state.js';
import type { SyncTracker } from '../store/store-health.js';
import type { Store, StoredDoc } from '../store/store.js';
import { waitApplied } from '../store/wait-applied.js';
import { hashKey, KEY_PREFIX, keyVerdict, type AuthResult, type KeyDoc } from './api-keys.js';
import { keyInfo, type KeyInfo } from './key-store.js';

export class KeyIndex {
  private readonly byHash = new Map<string, KeyDoc>();
  private readonly byId = new Map<string, KeyDoc>();
  private readonly listeners = new Set<() => void>();
  private readonly sync: IndexSync;

  constructor(
    private readonly store: Store,
    logger: Logger,
    options: { local?: LocalStateFile; tracker?: SyncTracker } = {},
  ) {
    this.sync = new IndexSync({
      name: 'keys',
      store,
      prefixes: [KEY_PREFIX],
      logger,
      local: options.local,
      tracker: options.tracker,
      apply: (doc) => this.apply(doc),
      remove: (id) => this.remove(id),
      reset: () => {
        this.byHash.clear();
        this.byId.clear();
      },
      applied: () => {
        for (const listener of this.listeners) listener();
      },
    });
  }

  start(): Promise<void> {
    return this.sync.start();
  }

  stop(): Promise<void> {
    return this.sync.stop();
  }

  /** The verdict on a presented secret, or undefined when no key here has its hash. */
  check(secret: string, now = Date.now()): AuthResult | undefined {
    const key = this.byHash.get(hashKey(secret));
    return key ? keyVerdict(this.store, key, now) : undefined;
  }

  /** Every key, as the API lists them. */
  list(): KeyInfo[] {
    return [...this.byId.values()].sort((a, b) => a._id.localeCompare(b._id)).map(keyInfo);
  }

  /** Resolves true once `check` holds after a change applied (a revoke waits for it), false after `ms`. */
  waitFor(check: (keys: KeyIndex) => boolean, ms: number): Promise<boolean> {
    return waitApplied(
      (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      () => check(this),
      ms,
    );
  }

  get(id: string): KeyDoc | undefined {
    return this.byId.get(KEY_PREFIX + id);
  }

  private apply(doc: StoredDoc): void {
    if (doc.type !== 'key' || typeof doc.hash !== 'string') return;
    this.remove(doc._id);
    this.byId.set(doc._id, doc as KeyDoc);
    this.byHash.set(doc.hash, doc as KeyDoc);
  }

  private remove(id: string): void {
    const before = this.byId.get(id);
    if (!before) return;
    this.byId.delete(id);
    if (this.byHash.get(before.hash) === before) this.byHash.delete(before.hash);
  }
}
