// Failed authentications per bucket, in fixed windows: after `max` failures in `windowMs` a bucket is limited until
// its window ends. auth.ts keeps two kinds of bucket, a client address and a presented credential (an API key's
// fingerprint, an acme-dns user), so a flood of bad keys from one address is limited without locking out a valid
// key from that address (every client behind one NAT), and one bad credential is limited from every address.
// Memory is bounded: past `maxClients` tracked buckets the oldest entry is dropped (Map keeps insertion order).

export interface FailureLimitOptions {
  max: number;
  windowMs: number;
  maxClients: number;
}

export const DEFAULT_FAILURE_LIMIT: FailureLimitOptions = { max: 20, windowMs: 60_000, maxClients: 10_000 };

interface Window {
  start: number;
  failures: number;
}

export class FailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly options: FailureLimitOptions = DEFAULT_FAILURE_LIMIT) {}

  /** Seconds until `bucket` is no longer limited, or 0 when it is not limited now. */
  retryAfter(bucket: string, now = Date.now()): number {
    const w = this.windows.get(bucket);
    if (!w) return 0;
    if (now - w.start >= this.options.windowMs) {
      this.windows.delete(bucket);
      return 0;
    }
    return w.failures >= this.options.max ? Math.ceil((w.start + this.options.windowMs - now) / 1000) : 0;
  }

  fail(bucket: string, now = Date.now()): void {
    let w = this.windows.get(bucket);
    if (!w || now - w.start >= this.options.windowMs) {
      this.windows.delete(bucket);
      w = { start: now, failures: 0 };
      this.windows.set(bucket, w);
      if (this.windows.size > this.options.maxClients) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
    }
    w.failures++;
  }
}
