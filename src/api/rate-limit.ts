// Failed authentications per client address, in fixed windows: after `max` failures in `windowMs` that address
// gets 429 until the window ends, so keys cannot be guessed at line rate. Memory is bounded: past `maxClients`
// tracked addresses the oldest entry is dropped (Map keeps insertion order).

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

  /** Seconds until `client` may try again, or 0 when it may try now. */
  retryAfter(client: string, now = Date.now()): number {
    const w = this.windows.get(client);
    if (!w) return 0;
    if (now - w.start >= this.options.windowMs) {
      this.windows.delete(client);
      return 0;
    }
    return w.failures >= this.options.max ? Math.ceil((w.start + this.options.windowMs - now) / 1000) : 0;
  }

  fail(client: string, now = Date.now()): void {
    let w = this.windows.get(client);
    if (!w || now - w.start >= this.options.windowMs) {
      this.windows.delete(client);
      w = { start: now, failures: 0 };
      this.windows.set(client, w);
      if (this.windows.size > this.options.maxClients) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
    }
    w.failures++;
  }
}
