// The embedded store: PouchDB on LevelDB in one directory, so a single node runs without CouchDB. PouchDB keeps the
// CouchDB document model (revisions, conflicts, changes feed); this file narrows it to the Store interface, and
// makes its failures loud and recoverable: damaged files are refused at open (leveldb-files.ts), and a full disk
// turns writes into StoreFullError until there is room again. LevelDB keeps refusing writes after a failed
// compaction until it is reopened, so once there is room the database is closed and opened again, in place.

import { createHash } from 'node:crypto';
import { mkdir, statfs } from 'node:fs/promises';
import PouchDB from 'pouchdb';
import { assertIntact, damaged, isCorruption, isIoError, isNoSpace } from './leveldb-files.js';
import { capturingLeveldown, listDirect, type LevelDown } from './pouch-direct-read.js';
import {
  ConflictError,
  NotFoundError,
  StoreFullError,
  StoreUnavailableError,
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

/** A changes feed as the store keeps it: how to stop it, and how to tell its owner it ended (the store reopened). */
interface Follower extends ChangesFollower {
  fail(err: Error): void;
}

/** While writes fail, how often the store checks whether they work again. */
const RECHECK_MS = 1_000;
/** A full disk has room again once this much is free (LevelDB writes its log and compacts in MB-sized files). */
const ROOM_BYTES = 1024 * 1024;
const WRITE_CHECK_ID = '_local/edgedns-write-check';

export class PouchStore implements Store {
  readonly description: string;
  #db: PouchDB;
  /** PouchDB's LevelDB, for reading many documents at once (pouch-direct-read.ts); undefined if PouchDB had it open already. */
  #level: LevelDown | undefined;
  readonly #followers = new Set<Follower>();
  readonly #replications = new Set<{ start(): void; stop(): void }>();
  readonly #problemListeners = new Set<(problem: string | undefined) => void>();
  #problem: string | undefined;
  #recheck: NodeJS.Timeout | undefined;
  #reopening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    db: PouchDB,
    readonly dir: string,
    level: LevelDown | undefined,
  ) {
    this.#db = db;
    this.#level = level;
    this.description = `pouchdb:${dir}`;
  }

  /**
   * Opens the store in `dir`, creating it when the directory holds none. Throws StoreDamagedError when the files are
   * damaged (nothing is created in their place), StoreUnavailableError when they cannot be opened now (full disk,
   * locked by another process).
   */
  static async open(dir: string): Promise<PouchStore> {
    await mkdir(dir, { recursive: true });
    await assertIntact(dir);
    const { db, level } = await openPouch(dir);
    return new PouchStore(db, dir, level);
  }

  /** Listens to write problems: a reason while writes fail (disk full), undefined once they work again. */
  onWriteProblem(listener: (problem: string | undefined) => void): () => void {
    this.#problemListeners.add(listener);
    if (this.#problem !== undefined) listener(this.#problem);
    return () => this.#problemListeners.delete(listener);
  }

  /** Runs a write; a LevelDB I/O failure becomes StoreFullError (or StoreUnavailableError) and starts the rechecks. */
  async #write<T>(op: () => Promise<T>): Promise<T> {
    await this.#reopening;
    try {
      const result = await op();
      if (this.#problem !== undefined) this.#setProblem(undefined);
      return result;
    } catch (err) {
      if (!isIoError(err)) throw err;
      throw this.#failed(err as Error);
    }
  }

  #failed(err: Error): Error {
    const full = isNoSpace(err);
    const problem = full ? `the disk of the embedded store (${this.dir}) is full: ${err.message}` : `the embedded store (${this.dir}) cannot write: ${err.message}`;
    this.#setProblem(problem);
    this.#scheduleRecheck();
    return full ? new StoreFullError(problem) : new StoreUnavailableError(problem);
  }

  #setProblem(problem: string | undefined): void {
    this.#problem = problem;
    for (const listener of this.#problemListeners) listener(problem);
  }

  /** While writes fail: once there is room, reopen LevelDB if it still refuses, until a write goes through. */
  #scheduleRecheck(): void {
    if (this.#recheck || this.#closing) return;
    this.#recheck = setTimeout(() => {
      this.#recheck = undefined;
      void this.#checkWrites().then((ok) => {
        if (ok) this.#setProblem(undefined);
        else this.#scheduleRecheck();
      });
    }, RECHECK_MS);
    this.#recheck.unref();
  }

  async #checkWrites(): Promise<boolean> {
    if (this.#closing) return false;
    const tryWrite = async (): Promise<boolean> => {
      try {
        const current = await this.#db.get(WRITE_CHECK_ID).catch(() => undefined);
        await this.#db.put({ _id: WRITE_CHECK_ID, ...(current ? { _rev: current._rev } : {}), at: new Date().toISOString() });
        return true;
      } catch {
        return false;
      }
    };
    if (await tryWrite()) return true;
    const { bavail, bsize } = await statfs(this.dir).catch(() => ({ bavail: 0, bsize: 0 }));
    if (bavail * bsize < ROOM_BYTES) return false;
    await this.#reopen();
    return tryWrite();
  }

  /** Closes and opens LevelDB again in place; changes feeds are told (they follow again), pulls restart. */
  #reopen(): Promise<void> {
    this.#reopening ??= (async () => {
      for (const replication of this.#replications) replication.stop();
      const followers = [...this.#followers];
      this.#followers.clear();
      for (const follower of followers) follower.fail(new StoreUnavailableError('the embedded store was reopened'));
      await this.#db.close().catch(() => undefined);
      const { db, level } = await openPouch(this.dir);
      this.#db = db;
      this.#level = level;
      for (const replication of this.#replications) replication.start();
    })().finally(() => (this.#reopening = undefined));
    return this.#reopening;
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
      const { id, rev } = await this.#write(() => this.#db.put(doc));
      return { id, rev };
    } catch (err) {
      throw translate(err, doc._id);
    }
  }

  async bulk(docs: StoredDoc[]): Promise<BulkResult[]> {
    const results = await this.#write(async () => {
      const written = await this.#db.bulkDocs(docs);
      // LevelDB writes a batch whole or not at all: an I/O error in one result is the batch's.
      const io = written.find((r) => !('ok' in r) && isIoError({ message: r.message ?? r.reason ?? '' }));
      if (io && !('ok' in io)) throw new Error(io.message ?? io.reason ?? 'IO error');
      return written;
    });
    return results.map((result, i): BulkResult => {
      const id = result.id ?? docs[i]._id;
      if ('ok' in result) return { id, rev: result.rev };
      // PouchError keeps CouchDB's error name ("conflict") in `name` and its reason in `message`.
      return { id, error: result.name, reason: result.reason ?? result.message };
    });
  }

  async remove(id: string, rev: string): Promise<WriteResult> {
    try {
      const result = await this.#write(() => this.#db.remove(id, rev));
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

    const follower: Follower = {
      cancel: () => {
        if (active) {
          active = false;
          this.#followers.delete(follower);
          feed.cancel();
        }
        return stopped;
      },
      fail: (err) => {
        if (!active) return;
        active = false;
        feed.cancel();
        onError(err);
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
      const db = (): PouchDB => this.#db;
      const result = await this.#write(() => (rev === undefined ? db().putAttachment(id, name, bytes, contentType) : db().putAttachment(id, name, rev, bytes, contentType)));
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
    let cancel: (() => void) | undefined;
    const entry = {
      start: (): void => {
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
        cancel = () => replication.cancel();
      },
      stop: (): void => cancel?.(),
    };
    entry.start();
    this.#replications.add(entry);
    return () => {
      this.#replications.delete(entry);
      entry.stop();
    };
  }

  close(): Promise<void> {
    // PouchDB rejects a second close; ours is idempotent so shutdown paths need not coordinate.
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (this.#recheck) clearTimeout(this.#recheck);
    await this.#reopening;
    for (const replication of this.#replications) replication.stop();
    await Promise.all([...this.#followers].map((follower) => follower.cancel()));
    await this.#db.close();
  }
}

/** PouchDB on LevelDB in `dir`, opened now so a locked, full or damaged directory fails here rather than later. */
async function openPouch(dir: string): Promise<{ db: PouchDB; level: LevelDown | undefined }> {
  let level: LevelDown | undefined;
  const options: PouchDB.Options & { db: unknown } = { db: capturingLeveldown((opened) => (level = opened)) };
  const db = new PouchDB(dir, options);
  // Every changes feed adds a listener to the database; a node with DNS workers follows once per worker and
  // index, well past Node's warning threshold of 10, and none of them leaks (each is removed on cancel).
  (db as unknown as { setMaxListeners(n: number): void }).setMaxListeners(0);
  try {
    await db.info();
  } catch (err) {
    await db.close().catch(() => {
      // The open error is the one worth reporting; a failed close of a database that never opened adds nothing.
    });
    if (isCorruption(err)) throw damaged(dir, (err as Error).message);
    throw new StoreUnavailableError(`cannot open the embedded store in ${dir}: ${(err as Error).message}`);
  }
  return { db, level };
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
