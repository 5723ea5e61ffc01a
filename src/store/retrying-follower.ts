// Follows a store's changes feed from a checkpoint and, when the feed fails, follows again from the last change
// seen after a capped, doubling delay: what every in-memory index fed by the store needs.

import type { Change, ChangesFollower, Store } from './store.js';

const INITIAL_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

export interface RetryingFollowerOptions {
  /** Opaque checkpoint to start after ("0" for everything). */
  since: string;
  onChange(change: Change): void;
  /** Told about each failure before the retry, with the delay it will wait. */
  onError(err: Error, retryInMs: number): void;
}

export class RetryingFollower {
  private follower: ChangesFollower | undefined;
  private stopped = false;
  private backoffMs = INITIAL_BACKOFF_MS;
  private lastSeq: string;

  constructor(
    private readonly store: Store,
    private readonly options: RetryingFollowerOptions,
  ) {
    this.lastSeq = options.since;
  }

  start(): void {
    if (this.stopped) return;
    this.follower = this.store.follow({
      since: this.lastSeq,
      onChange: (change) => {
        this.backoffMs = INITIAL_BACKOFF_MS;
        this.lastSeq = change.seq;
        this.options.onChange(change);
      },
      onError: (err) => {
        const delay = this.backoffMs;
        this.options.onError(err, delay);
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
        const failed = this.follower;
        setTimeout(() => void failed?.cancel().finally(() => this.start()), delay).unref();
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.follower?.cancel();
  }
}
