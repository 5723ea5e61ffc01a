// Hot blobs on local disk, for a node whose store is a remote CouchDB: every blob read from the store is kept in
// <data>/local-state/blobs/<sha256>, bounded in bytes (least recently used go first), so a node restarted while its
// database is down still serves the files its visitors asked for. Content-addressed: a file is checked against its
// name when read, and a damaged one is dropped rather than served.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { SHA256_RE } from './model.js';

export class BlobDiskCache {
  /** sha256 → bytes, least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly sizes = new Map<string, number>();
  private total = 0;
  private ready: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  /** The blob when this disk has it, checked against its hash; undefined otherwise. */
  async read(sha256: string): Promise<Buffer | undefined> {
    if (!SHA256_RE.test(sha256)) return undefined;
    await this.init();
    if (!this.sizes.has(sha256)) return undefined;
    let data: Buffer;
    try {
      data = await readFile(path.join(this.dir, sha256));
    } catch {
      this.forget(sha256);
      return undefined;
    }
    if (createHash('sha256').update(data).digest('hex') !== sha256) {
      this.logger.warn({ sha256 }, 'a blob kept on disk does not match its hash; dropped');
      await this.drop(sha256);
      return undefined;
    }
    this.touch(sha256, data.length);
    return data;
  }

  /** Keeps a blob read from the store; failures (a full disk) only cost the copy. */
  async write(sha256: string, data: Buffer): Promise<void> {
    if (!SHA256_RE.test(sha256) || data.length > this.maxBytes) return;
    await this.init();
    if (this.sizes.has(sha256)) return this.touch(sha256, data.length);
    const file = path.join(this.dir, sha256);
    const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, data);
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true });
      this.logger.debug({ sha256, err: (err as Error).message }, 'cannot keep a blob on disk');
      return;
    }
    this.touch(sha256, data.length);
    while (this.total > this.maxBytes) {
      const oldest = this.sizes.keys().next().value;
      if (oldest === undefined) break;
      await this.drop(oldest);
    }
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      for (const name of await readdir(this.dir)) {
        if (name.endsWith('.tmp')) {
          await rm(path.join(this.dir, name), { force: true });
          continue;
        }
        if (!SHA256_RE.test(name)) continue;
        const info = await stat(path.join(this.dir, name)).catch(() => undefined);
        if (info) this.touch(name, info.size);
      }
    })().catch((err: unknown) => {
      this.logger.warn({ dir: this.dir, err: (err as Error).message }, 'cannot use the blob directory; files are not kept on disk');
    });
    return this.ready;
  }

  private touch(sha256: string, size: number): void {
    this.forget(sha256);
    this.sizes.set(sha256, size);
    this.total += size;
  }

  private forget(sha256: string): void {
    const size = this.sizes.get(sha256);
    if (size === undefined) return;
    this.sizes.delete(sha256);
    this.total -= size;
  }

  /** Removes a blob (garbage collection removed it from the store). */
  async drop(sha256: string): Promise<void> {
    this.forget(sha256);
    await rm(path.join(this.dir, sha256), { force: true });
  }
}
