// The CouchDB store: the same Store interface as the embedded one, over CouchDB's HTTP API through nano. Sequence
// values stay opaque strings end to end (CouchDB 3: "12-g1AAAA…"; pouchdb-server: integers, which we stringify and
// hand back untouched). The database and design document are created on first use, idempotently, so several nodes
// may start at once and a node may start while the server is down.

import { CouchError, CouchUnavailableError, couchServer, docPath, statusOf, type CouchRequest, type CouchServer, type CouchServerOptions } from './couch-http.js';
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

export interface CouchStoreOptions extends CouchServerOptions {
  /** Every edgedns database name starts with this (default "edgedns_"). */
  prefix: string;
  /** How long CouchDB holds a longpoll open when nothing changes (ms). */
  longpollMs?: number;
}

/** The database holding zones, RRsets, keys and the other replicated documents. */
export const MAIN_DB_SUFFIX = 'data';

export const DESIGN_ID = '_design/edgedns';

/** Views the node queries; compared field by field so an unchanged design document is never rewritten. */
export const DESIGN_DOC = {
  language: 'javascript',
  views: {
    // Documents that have losing revisions after replication merged concurrent edits (CouchDB only lists them
    // with conflicts=true, and a view is how a database is asked for all of them without a full scan).
    conflicts: { map: 'function (doc) { if (doc._conflicts) { emit(doc._id, doc._conflicts); } }' },
  },
};

const PAGE = 1000;
const MAX_PAGES = 10_000;

interface CouchChange {
  id: string;
  seq: string | number;
  deleted?: boolean;
  doc?: StoredDoc;
}

interface CouchChanges {
  results: CouchChange[];
  last_seq: string | number;
}

/** How long after its own timeout a longpoll may take to answer (CouchDB under load) before it counts as lost. */
const LONGPOLL_GRACE_MS = 15_000;
/** How long the check that a database whose longpoll went silent still answers may take. */
const LIVENESS_TIMEOUT_MS = 5_000;

export class CouchStore implements Store {
  readonly description: string;
  readonly db: string;
  readonly server: CouchServer;
  readonly #followers = new Set<ChangesFollower>();
  readonly #longpollMs: number;
  #ready: Promise<void> | undefined;
  #closed = false;
  /**
   * Where a changes request carries its selector. CouchDB 3 documents it in a POST body and refuses it elsewhere
   * with 400; pouchdb-server takes it only as a query parameter (a POST with filter=_selector kills its process),
   * so the query comes first, then the body, then none (every change, as without a selector).
   */
  #selectorIn: 'query' | 'body' | 'none' = 'query';

  constructor(options: CouchStoreOptions) {
    if (!/^[a-z][a-z0-9_$()+/-]*$/.test(options.prefix)) {
      throw new Error(`database prefix "${options.prefix}" must start with a-z and hold only a-z, 0-9, _$()+-/ (CouchDB database names)`);
    }
    this.server = couchServer(options);
    this.db = `${options.prefix}${MAIN_DB_SUFFIX}`;
    this.description = `couchdb:${this.server.publicUrl}${this.db}`;
    this.#longpollMs = options.longpollMs ?? 25_000;
  }

  /** Creates the database and design document if they are missing; safe to run on several nodes at once. */
  ensure(): Promise<void> {
    this.#ready ??= this.#create().catch((err: unknown) => {
      // Not cached: the next operation tries again once the server is back.
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #create(): Promise<void> {
    await ensureDatabase(this.server, this.db);
    try {
      await ensureDesignDoc(this.server, this.db, DESIGN_ID, DESIGN_DOC);
    } catch (err) {
      // A database member who is not its admin may not write design documents. Zones still work; only the conflicts
      // listing needs the view, and it says so when asked (404 on the view).
      if (statusOf(err) !== 401 && statusOf(err) !== 403) throw err;
    }
  }

  async get(id: string): Promise<StoredDoc | undefined> {
    await this.ensure();
    try {
      return await this.#request<StoredDoc>({ path: docPath(id) });
    } catch (err) {
      // 404 both for a document never written and a deleted one, as in PouchDB.
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async conflicts(id: string): Promise<StoredDoc[]> {
    await this.ensure();
    let winner: StoredDoc & { _conflicts?: string[] };
    try {
      winner = await this.#request({ path: docPath(id), qs: { conflicts: true } });
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw err;
    }
    return Promise.all((winner._conflicts ?? []).map((rev) => this.#request<StoredDoc>({ path: docPath(id), qs: { rev } })));
  }

  async put(doc: StoredDoc): Promise<WriteResult> {
    await this.ensure();
    try {
      const { id, rev } = await this.#request<{ id: string; rev: string }>({ method: 'PUT', path: docPath(doc._id), body: doc });
      return { id, rev };
    } catch (err) {
      throw translate(err, doc._id);
    }
  }

  async bulk(docs: StoredDoc[]): Promise<BulkResult[]> {
    await this.ensure();
    const results = await this.#request<{ id?: string; rev?: string; error?: string; reason?: string }[]>({
      method: 'POST',
      path: '_bulk_docs',
      body: { docs },
    });
    return results.map((result, i): BulkResult => {
      const id = result.id ?? docs[i]._id;
      if (result.error !== undefined) return { id, error: result.error, reason: result.reason };
      return { id, rev: result.rev };
    });
  }

  async remove(id: string, rev: string): Promise<WriteResult> {
    await this.ensure();
    try {
      const result = await this.#request<{ id: string; rev: string }>({ method: 'DELETE', path: docPath(id), qs: { rev } });
      return { id: result.id, rev: result.rev };
    } catch (err) {
      throw translate(err, id);
    }
  }

  async list(prefix: string): Promise<StoredDoc[]> {
    await this.ensure();
    const docs: StoredDoc[] = [];
    let startkey = prefix;
    let skip = 0;
    // Paged so a large database never arrives as one response; bounded so a misbehaving server cannot loop us.
    for (let page = 0; page < MAX_PAGES; page++) {
      const qs: Record<string, string | number | boolean> = {
        include_docs: true,
        limit: PAGE,
        // nano JSON-encodes startkey and endkey itself.
        startkey,
        endkey: `${prefix}\ufff0`,
      };
      if (skip) qs.skip = skip;
      const { rows } = await this.#request<{ rows: { id: string; doc?: StoredDoc; value: { deleted?: boolean } }[] }>({
        path: '_all_docs',
        qs,
      });
      for (const row of rows) {
        if (row.doc && row.value.deleted !== true && !isInternal(row.id)) docs.push(row.doc);
      }
      if (rows.length < PAGE) return docs;
      startkey = rows[rows.length - 1].id;
      skip = 1;
    }
    throw new Error(`listing ${this.db} did not end after ${MAX_PAGES} pages`);
  }

  async updateSeq(): Promise<string> {
    await this.ensure();
    const info = await this.#request<{ update_seq: string | number }>({});
    return String(info.update_seq);
  }

  async changes(since: string, limit?: number): Promise<ChangesBatch> {
    await this.ensure();
    const results: Change[] = [];
    let from = since;
    // Design documents are the store's own and never reach callers; when a page had some, ask for more so `limit`
    // still means "up to limit documents".
    for (let page = 0; page < MAX_PAGES; page++) {
      const want = limit === undefined ? undefined : limit - results.length;
      const qs: Record<string, string | number | boolean> = { since: from, include_docs: true };
      if (want !== undefined) qs.limit = want;
      const batch = checkedChanges(await this.#request<unknown>({ path: '_changes', qs }));
      for (const change of batch.results) if (!isInternal(change.id)) results.push(toChange(change));
      from = String(batch.last_seq);
      if (want === undefined || batch.results.length < want || results.length >= (limit ?? 0)) break;
    }
    return { results, lastSeq: from };
  }

  async getMany(ids: string[]): Promise<(StoredDoc | undefined)[]> {
    if (ids.length === 0) return [];
    await this.ensure();
    const { rows } = await this.#request<{ rows: { key: string; error?: string; doc?: StoredDoc | null; value?: { deleted?: boolean } }[] }>({
      method: 'POST',
      path: '_all_docs',
      qs: { include_docs: true },
      body: { keys: ids },
    });
    return rows.map((row) => (row.error === undefined && row.doc && row.value?.deleted !== true ? row.doc : undefined));
  }

  async putAttachment(id: string, name: string, rev: string | undefined, data: Buffer, contentType: string): Promise<WriteResult> {
    await this.ensure();
    const query = rev === undefined ? '' : `?rev=${encodeURIComponent(rev)}`;
    try {
      const { body } = await this.server.raw(`${this.db}/${docPath(id)}/${encodeURIComponent(name)}${query}`, { method: 'PUT', body: data, contentType });
      const result = JSON.parse(body.toString('utf8')) as { id: string; rev: string };
      return { id: result.id, rev: result.rev };
    } catch (err) {
      throw translate(err, id);
    }
  }

  async getAttachment(id: string, name: string): Promise<Buffer | undefined> {
    await this.ensure();
    try {
      return (await this.server.raw(`${this.db}/${docPath(id)}/${encodeURIComponent(name)}`, {})).body;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Longpoll requests one after another. A failure (server gone, HTTP error) ends the feed after `onError`; the
   * caller reconnects with its own backoff. An exception from `onChange` goes to `onError` and the feed goes on.
   */
  follow({ since, prefixes, onChange, onError }: FollowOptions): ChangesFollower {
    const abort = new AbortController();
    let active = true;
    const selector = prefixes && prefixes.length > 0 ? { _id: { $regex: `^(${prefixes.map(escapeRegex).join('|')})` } } : undefined;
    const loop = async (): Promise<void> => {
      let from = since;
      await this.ensure();
      while (active) {
        // A silent network (no reset) must still end the request: CouchDB answers a longpoll by its timeout.
        const expired = AbortSignal.timeout(this.#longpollMs + Math.min(LONGPOLL_GRACE_MS, this.#longpollMs));
        const signal = AbortSignal.any([abort.signal, expired]);
        const qs = { since: from, include_docs: true, feed: 'longpoll', timeout: this.#longpollMs };
        let batch: CouchChanges;
        try {
          batch = checkedChanges(await this.#request<unknown>(selector ? this.#selected(qs, selector, signal) : { path: '_changes', qs, signal }));
        } catch (err) {
          if (!active) return;
          if (selector && statusOf(err) === 400 && this.#selectorIn !== 'none') {
            // This server does not take the selector that way: the next way, and in the end none.
            this.#selectorIn = this.#selectorIn === 'query' ? 'body' : 'none';
            continue;
          }
          // pouchdb-server ignores a longpoll's timeout: with nothing to send, the poll ends by ours, cut short. That
          // is an idle database when the server still answers at once; anything else is the failure it looks like.
          if (expired.aborted && (await this.#answers())) continue;
          throw err;
        }
        if (!active) return;
        for (const change of batch.results) {
          if (!active) return;
          if (isInternal(change.id)) continue;
          try {
            onChange(toChange(change));
          } catch (err) {
            onError(asError(err));
          }
        }
        from = String(batch.last_seq);
      }
    };
    const stopped = loop().catch((err: unknown) => {
      if (!active) return;
      active = false;
      this.#followers.delete(follower);
      onError(asError(err));
    });
    const follower: ChangesFollower = {
      cancel: () => {
        active = false;
        this.#followers.delete(follower);
        abort.abort();
        // Every callback checks `active`, so none can follow this; the aborted request settles on its own (bounded
        // by the request timeout), and shutdown need not wait on a server that stopped answering.
        void stopped;
        return Promise.resolve();
      },
    };
    this.#followers.add(follower);
    return follower;
  }

  /** The database answers a plain request within a few seconds. */
  async #answers(): Promise<boolean> {
    try {
      await this.#request({ signal: AbortSignal.timeout(LIVENESS_TIMEOUT_MS) });
      return true;
    } catch {
      return false;
    }
  }

  /** A longpoll on `_changes` for the documents `selector` matches, the way this server takes it. */
  #selected(qs: Record<string, string | number | boolean>, selector: object, signal: AbortSignal): CouchRequest {
    switch (this.#selectorIn) {
      case 'query':
        return { path: '_changes', qs: { ...qs, filter: '_selector', selector: JSON.stringify(selector) }, signal };
      case 'body':
        return { method: 'POST', path: '_changes', qs: { ...qs, filter: '_selector' }, body: { selector }, signal };
      case 'none':
        return { path: '_changes', qs, signal };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#followers].map((follower) => follower.cancel()));
  }

  #request<T>(req: { method?: string; path?: string; qs?: Record<string, string | number | boolean>; body?: unknown; signal?: AbortSignal }): Promise<T> {
    return this.server.request<T>({ db: this.db, ...req });
  }
}

/** Creates a database unless it exists (412 from a concurrent creator is success too). */
export async function ensureDatabase(server: CouchServer, db: string): Promise<void> {
  try {
    await server.request({ db, method: 'PUT' });
  } catch (err) {
    if (statusOf(err) !== 412) throw err;
  }
}

/** Writes a design document unless it already says the same; a conflict with another node's write is retried. */
export async function ensureDesignDoc(server: CouchServer, db: string, id: string, body: object): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    let current: StoredDoc | undefined;
    try {
      current = await server.request<StoredDoc>({ db, path: docPath(id) });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    if (current && sameContent(current, body)) return;
    try {
      await server.request({ db, method: 'PUT', path: docPath(id), body: { ...body, _id: id, ...(current ? { _rev: current._rev } : {}) } });
      return;
    } catch (err) {
      if (statusOf(err) !== 409 || attempt === 5) throw err;
    }
  }
}

function sameContent(current: StoredDoc, wanted: object): boolean {
  const { _id: _ignoredId, _rev: _ignoredRev, ...rest } = current;
  return JSON.stringify(rest) === JSON.stringify(wanted);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Design and local documents belong to the store itself. */
function isInternal(id: string): boolean {
  return id.startsWith('_design/');
}

/**
 * A changes answer as CouchDB sends it. A server shutting down may end a longpoll with an empty or cut-short body,
 * which nano hands back as it is: that is the database going away, not a bug of ours.
 */
function checkedChanges(value: unknown): CouchChanges {
  const batch = value as Partial<CouchChanges> | null;
  if (typeof batch === 'object' && batch !== null && Array.isArray(batch.results) && (typeof batch.last_seq === 'string' || typeof batch.last_seq === 'number')) {
    return batch as CouchChanges;
  }
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : typeof value;
  throw new CouchUnavailableError(`CouchDB unreachable: the changes feed ended without a complete answer (${shown}); is the server shutting down?`);
}

function toChange(change: CouchChange): Change {
  const result: Change = { id: change.id, seq: String(change.seq), deleted: change.deleted === true };
  if (change.doc && change.deleted !== true) result.doc = change.doc;
  return result;
}

function translate(err: unknown, id: string): unknown {
  if (err instanceof CouchError) {
    if (err.status === 409) return new ConflictError(id);
    if (err.status === 404) return new NotFoundError(id);
  }
  return err;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
