// Hot blobs in memory, bounded in bytes (lru-cache maxSize), so a popular page is served without touching the
// store. Concurrent misses for one blob share a single store read. With a remote store, a miss first asks the copy
// kept on local disk (blob-disk-cache.ts), and what the store sends is kept there too.

import { LRUCache } from 'lru-cache';
import type { Store } from '../store/store.js';
import type { BlobDiskCache } from './blob-disk-cache.js';
import type { PagesMetrics } from './metrics.js';
import { BLOB_ATTACHMENT, blobId } from './model.js';

export class BlobCache {
  private readonly cache: LRUCache<string, Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer | undefined>>();

  constructor(
    private readonly store: Store,
    readonly maxBytes: number,
    private readonly metrics: PagesMetrics,
    private readonly disk?: BlobDiskCache,
  ) {
    // One blob may take at most a quarter of the cache, so one huge file cannot evict every hot page.
    this.cache = new LRUCache<string, Buffer>({
      maxSize: Math.max(1, maxBytes),
      maxEntrySize: Math.max(1, Math.floor(maxBytes / 4)),
      sizeCalculation: (buffer) => Math.max(1, buffer.length),
    });
    metrics.cacheSize = () => this.cache.calculatedSize;
  }

  /** The blob when it is in memory; no I/O. */
  peek(sha256: string): Buffer | undefined {
    const hit = this.cache.get(sha256);
    if (hit) this.metrics.cache.labels('hit').inc();
    return hit;
  }

  /** The blob from memory or, on a miss, from the store; undefined when the store lacks it (not replicated yet). */
  get(sha256: string): Promise<Buffer | undefined> {
    const hit = this.peek(sha256);
    if (hit) return Promise.resolve(hit);
    this.metrics.cache.labels('miss').inc();
    let pending = this.inflight.get(sha256);
    if (!pending) {
      pending = this.read(sha256)
        .then((data) => {
          if (data && this.maxBytes > 0) this.cache.set(sha256, data);
          return data;
        })
        .finally(() => this.inflight.delete(sha256));
      this.inflight.set(sha256, pending);
    }
    return pending;
  }

  private async read(sha256: string): Promise<Buffer | undefined> {
    const kept = await this.disk?.read(sha256);
    if (kept) return kept;
    const data = await this.store.getAttachment(blobId(sha256), BLOB_ATTACHMENT);
    if (data && this.disk) void this.disk.write(sha256, data);
    return data;
  }

  delete(sha256: string): void {
    this.cache.delete(sha256);
    void this.disk?.drop(sha256);
  }

  get size(): number {
    return this.cache.calculatedSize;
  }
}
