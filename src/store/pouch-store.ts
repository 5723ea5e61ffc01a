// The embedded store: PouchDB on LevelDB in one directory, so a single node runs without CouchDB. PouchDB keeps the
// CouchDB document model (revisions, conflicts, changes feed); this file only narrows it to the Store interface.

import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import PouchDB from 'pouchdb';
import { capturingLeveldown, listDirect, type LevelDown } from './pouch-direct-read.js';
import {
  ConflictError,
  NotFoundError,
  type BulkResult,
  type Change,
  type ChangesBatch,
  type ChangesFollower,
  type FollowOptions,
  type Store,
  type StoredDoc,
  type WriteResult,
} from './store.js';

/** What a pull replication reports: documents written, and its state ("idle" = caught up and waiting). */
export interface PullEvents {
  onPulled(docs: number): void;
  onState(state: 'active' | 'idle' | 'retrying' | 'denied' | 'error', err?: Error): void;
}

export class PouchStore implements Store {
  readonly description: string;
  readonly #db: PouchDB;
  /** PouchDB's LevelDB, for reading many documents at once (pouch-direct-read.ts); undefined if PouchDB had it open already. */
  readonly #level: LevelDown | undefined;
  readonly #followers = new Set<ChangesFollower>();
  readonly #replications = new Set<() => void>();
  #closing: Promise<void> | undefined;

  private constructor(db: PouchDB, dir: string, level: LevelDown | undefined) {
    this.#db = db;
    this.#level = level;
    this.description = `pouchdb:${dir}`;
  }

  static async open(dir: string): Promise<PouchStore> {
    await mkdir(dir, { recursive: true });
    let level: LevelDown | undefined;
    const options: PouchDB.Options & { db: unknown } = { db: capturingLeveldown((opened) => (level = opened)) };
    const db = new PouchDB(dir, options);
    // Every changes feed adds a listener to the database; a node with DNS workers follows once per worker and
    // index, well past Node's warning threshold of 10, and none of them leaks (each is removed on cancel).
    (db as unknown as { setMaxListeners(n: number): void }).setMaxListeners(0);
    try {
      // PouchDB opens LevelDB lazily; asking for info now makes a locked or unreadable directory fail here, at
      // start, rather than on the first query.
      await db.info();
    } catch (err) {
      await db.close().catch(() => {
        // The open error is the one worth reporting; a failed close of a database that never opened adds nothing.
      });
      throw err;
    }
    return new PouchStore(db, dir, level);
  }

  async get(id: string): Promise<StoredDoc | undefined> {
    try {
      return await this.#db.get(id);
    } catch (err) {
      // PouchDB answers 404 for both a document that never existed and one that was deleted.
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async conflicts(id: string): Promise<StoredDoc[]> {
    let winner: StoredDoc;
    try {
      winner = await this.#db.get(id, { conflicts: true });
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw err;
    }
    const revs = Array.isArray(winner._conflicts) ? (winner._conflicts as string[]) : [];
    return Promise.all(revs.map((rev) => this.#db.get(id, { rev }) as Promise<StoredDoc>));
  }

  async put(doc: StoredDoc): Promise<WriteResult> {
    try {
      const { id, rev } = await this.#db.put(doc);
      return { id, rev };
    } catch (err) {
      throw translate(err, doc._id);
    }
  }

  async bulk(docs: StoredDoc[]): Promise<BulkResult[]> {
    const results = await this.#db.bulkDocs(docs);
    return results.map((result, i): BulkResult => {
      const id = result.id ?? docs[i]._id;
      if ('ok' in result) return { id, rev: result.rev };
      // PouchError keeps CouchDB's error name ("conflict") in `name` and its reason in `message`.
      return { id, error: result.name, reason: result.reason ?? result.message };
    });
  }

  async remove(id: string, rev: string): Promise<WriteResult> {
    try {
      const result = await this.#db.remove(id, rev);
      return { id: result.id, rev: result.rev };
    } catch (err) {
      throw translate(err, id);
    }
  }

  async list(prefix: string): Promise<StoredDoc[]> {
    const direct = this.#level && (await listDirect(this.#level, prefix));
    if (direct) return direct as StoredDoc[];
    // LevelDB orders ids as UTF-8 bytes: U+10FFFF (F4 8F BF BF) bounds every id that starts with the prefix, where
    // CouchDB's usual U+FFF0 would miss U+FFFD and everything outside the BMP, and no range at all stops at "\xff".
    const range = { startkey: prefix, endkey: `${prefix}\u{10ffff}` };
    const { rows } = await this.#db.allDocs({ ...range, include_docs: true });
    const docs: StoredDoc[] = [];
    for (const row of rows) {
      if (row.doc && row.value.deleted !== true) docs.push(row.doc);
    }
    return docs;
  }

  async updateSeq(): Promise<string> {
    const info = await this.#db.info();
    return String(info.update_seq);
  }

  async changes(since: string, limit?: number): Promise<ChangesBatch> {
    const response = await this.#db.changes({
      since: pouchSince(since),
      include_docs: true,
      ...(limit === undefined ? {} : { limit }),
    });
    return { results: response.results.map(toChange), lastSeq: String(response.last_seq) };
  }

  /**
   * An error from PouchDB ends the feed after `onError`. An exception thrown by `onChange` is handed to `onError` and
   * the feed goes on: one document the caller cannot digest must not stop every later update.
   */
  follow({ since, onChange, onError }: FollowOptions): ChangesFollower {
    const feed = this.#db.changes({ since: pouchSince(since), include_docs: true, live: true });
    // Cleared before PouchDB is told to stop, so not one callback reaches the caller after cancel() is called.
    let active = true;
    const stopped = new Promise<void>((resolve) => {
      feed.on('complete', () => resolve());
      feed.on('error', (err) => {
        if (active) {
          active = false;
          this.#followers.delete(follower);
          onError(asError(err));
        }
        resolve();
      });
    });
    feed.on('change', (change) => {
      if (!active) return;
      try {
        onChange(toChange(change));
      } catch (err) {
        onError(asError(err));
      }
    });

    const follower: ChangesFollower = {
      cancel: () => {
        if (active) {
          active = false;
          this.#followers.delete(follower);
          feed.cancel();
        }
        return stopped;
      },
    };
    this.#followers.add(follower);
    return follower;
  }

  async getMany(ids: string[]): Promise<(StoredDoc | undefined)[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.#db.allDocs({ keys: ids, include_docs: true });
    return rows.map((row) => (row.error === undefined && row.doc && row.value.deleted !== true ? row.doc : undefined));
  }

  async putAttachment(id: string, name: string, rev: string | undefined, data: Buffer, contentType: string): Promise<WriteResult> {
    const bytes = attachmentBytes(data);
    try {
      const result =
        rev === undefined
          ? await this.#db.putAttachment(id, name, bytes, contentType)
          : await this.#db.putAttachment(id, name, rev, bytes, contentType);
      return { id: result.id, rev: result.rev };
    } catch (err) {
      throw translate(err, id);
    }
  }

  async getAttachment(id: string, name: string): Promise<Buffer | undefined> {
    try {
      return await this.#db.getAttachment(id, name);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Pulls continuously from a CouchDB database URL into this store (the embedded edge replica). PouchDB retries with
   * the backoff given; the returned function stops it.
   */
  replicateFrom(url: string, events: PullEvents): () => void {
    const replication = this.#db.replicate.from(url, {
      live: true,
      retry: true,
      back_off_function: (delay) => Math.min(delay === 0 ? 250 : delay * 2, 5000),
      // Design documents (CouchDB views) are the server's own business, not data this node serves.
      filter: (doc) => !doc._id.startsWith('_design/'),
    });
    replication.on('change', (info) => events.onPulled(info.docs_written));
    replication.on('paused', (err) => events.onState(err === undefined ? 'idle' : 'retrying', err === undefined ? undefined : asError(err)));
    replication.on('active', () => events.onState('active'));
    replication.on('denied', (err) => events.onState('denied', asError(err)));
    replication.on('error', (err) => events.onState('error', asError(err)));
    const cancel = (): void => replication.cancel();
    this.#replications.add(cancel);
    return () => {
      this.#replications.delete(cancel);
      cancel();
    };
  }

  close(): Promise<void> {
    // PouchDB rejects a second close; ours is idempotent so shutdown paths need not coordinate.
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    for (const cancel of this.#replications) cancel();
    await Promise.all([...this.#followers].map((follower) => follower.cancel()));
    await this.#db.close();
  }
}

/**
 * The attachment's bytes as PouchDB should take them. Given a Buffer, PouchDB copies it (its document clone) and
 * then derives the revision id from JSON.stringify of the whole document, which writes a Buffer as an array of
 * numbers: a 25 MiB file took 15 s and 850 MB (issue 12). A Uint8Array view is not cloned (PouchDB clones only
 * Buffers), and its toJSON stands in with the content's digest, so the revision still follows the content.
 */
function attachmentBytes(data: Buffer): Buffer {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const digest = createHash('md5').update(view).digest('base64');
  Object.defineProperty(view, 'toJSON', { value: () => `md5-${digest}` });
  // PouchDB's typings ask for a Buffer; it reads only the bytes (hash, length, LevelDB write), which a view has.
  return view as Buffer;
}

/** PouchDB's LevelDB adapter counts sequences as integers; the interface carries them as strings. */
function pouchSince(since: string): number | 'now' {
  if (since === 'now') return 'now';
  if (/^\d+$/.test(since)) return Number(since);
  throw new Error(`sequence ${JSON.stringify(since)} was not issued by an embedded store`);
}

function toChange(result: PouchDB.ChangesResult): Change {
  const change: Change = { id: result.id, seq: String(result.seq), deleted: result.deleted === true };
  if (result.doc) change.doc = result.doc;
  return change;
}

function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number') {
    return err.status;
  }
  return undefined;
}

function translate(err: unknown, id: string): unknown {
  switch (statusOf(err)) {
    case 409:
      return new ConflictError(id);
    case 404:
      return new NotFoundError(id);
    default:
      return err;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
