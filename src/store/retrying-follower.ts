// Follows a store's changes feed from a checkpoint and, when the feed fails, follows again from the last change
// seen after a capped, doubling delay: what every in-memory index fed by the store needs. An index that must do
// more before following (catch up from its checkpoint, or read everything again) says so with `resume`, which runs
// before the first follow and again after every failure, and is retried the same way when it fails itself.

import type { Change, ChangesFollower, Store } from './store.js';

const INITIAL_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

export interface RetryingFollowerOptions {
  /** Opaque checkpoint to start after ("0" for everything). */
  since: string;
  /** The id prefixes this follower cares about (FollowOptions.prefixes). */
  prefixes?: readonly string[];
  onChange(change: Change): void;
  /** Told about each failure (of the feed or of `resume`) before the retry, with the delay it will wait. */
  onError(err: Error, retryInMs: number): void;
  /**
   * Runs before each follow with the checkpoint it would follow from, and answers the checkpoint to follow from
   * instead (after a catch-up or a full read). A rejection counts as a failure: told to onError, retried later.
   */
  resume?(since: string): Promise<string>;
  /** Called each time the feed is followed again after `resume` succeeded (the data is in sync from here on). */
  onFollowing?(): void;
  /** Cap of the doubling delay between attempts (default 30 s). */
  maxBackoffMs?: number;
}

export class RetryingFollower {
  private follower: ChangesFollower | undefined;
  private stopped = false;
  private backoffMs = INITIAL_BACKOFF_MS;
  private lastSeq: string;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Bumped by each attempt, so a late callback of an attempt that has been given up on does nothing. */
  private attempt = 0;

  constructor(
    private readonly store: Store,
    private readonly options: RetryingFollowerOptions,
  ) {
    this.lastSeq = options.since;
  }

  /** The checkpoint after the last change handed to onChange (or the one resume answered). */
  get since(): string {
    return this.lastSeq;
  }

  start(): void {
    if (this.stopped) return;
    const attempt = ++this.attempt;
    const { resume } = this.options;
    if (!resume) return this.follow(attempt);
    resume(this.lastSeq).then(
      (since) => {
        if (this.stopped || attempt !== this.attempt) return;
        this.lastSeq = since;
        this.backoffMs = INITIAL_BACKOFF_MS;
        this.follow(attempt);
      },
      (err: unknown) => {
        if (this.stopped || attempt !== this.attempt) return;
        this.retry(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private follow(attempt: number): void {
    if (this.stopped) return;
    this.follower = this.store.follow({
      since: this.lastSeq,
      ...(this.options.prefixes ? { prefixes: this.options.prefixes } : {}),
      onChange: (change) => {
        if (attempt !== this.attempt) return;
        this.backoffMs = INITIAL_BACKOFF_MS;
        this.lastSeq = change.seq;
        this.options.onChange(change);
      },
      onError: (err) => {
        if (attempt !== this.attempt || this.stopped) return;
        this.retry(err);
      },
    });
    this.options.onFollowing?.();
  }

  private retry(err: Error): void {
    const delay = this.backoffMs;
    this.options.onError(err, delay);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? MAX_BACKOFF_MS);
    const failed = this.follower;
    this.follower = undefined;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void (failed?.cancel() ?? Promise.resolve()).finally(() => this.start());
    }, delay);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.follower?.cancel();
  }
}
