// The cluster mesh as CouchDB runs it: continuous `_replicator` documents, one pulling and one pushing, for every
// edgedns database between the local server and each peer. All of them live in the local `_replicator`, with ids
// that name direction, database and peer, so join is idempotent and leave knows what to remove.

import { ensureDatabase } from '../store/couch-store.js';
import { CouchError, couchServer, docPath, statusOf, type CouchServer } from '../store/couch-http.js';

export const REPLICATOR_DB = '_replicator';
const ID_PREFIX = 'edgedns:';

export type Direction = 'push' | 'pull';

export interface ReplicationDoc {
  _id: string;
  _rev?: string;
  source: string;
  target: string;
  continuous: true;
  create_target?: boolean;
  /**
   * When this join wrote it. Besides telling the operator, it makes each document distinct: pouchdb-server treats a
   * document equal to a replication it ran before as a duplicate and never starts it (CouchDB ignores the field).
   */
  edgedns_joined_at?: string;
  /** pouchdb-server (CouchDB 1.x style) keeps the state in the document itself. */
  _replication_state?: string;
  _replication_state_reason?: string;
}

export interface JoinResult {
  id: string;
  db: string;
  direction: Direction;
  /** False when an identical document was already there. */
  created: boolean;
}

/** A peer as the id names it: its URL without credentials, so changing a password keeps the same documents. */
export function peerKey(peerUrl: string): string {
  return couchServer({ url: peerUrl }).publicUrl;
}

export function replicationId(direction: Direction, db: string, peerUrl: string): string {
  return `${ID_PREFIX}${direction}:${db}:${peerKey(peerUrl)}`;
}

export function parseId(id: string): { direction: Direction; db: string; peer: string } | undefined {
  const m = /^edgedns:(push|pull):([^:]+):(.+)$/.exec(id);
  return m ? { direction: m[1] as Direction, db: m[2], peer: m[3] } : undefined;
}

/** The edgedns databases a server has (by prefix); an unreachable peer gives none, so join still covers ours. */
export async function edgednsDatabases(server: CouchServer, prefix: string): Promise<string[]> {
  const all = await server.request<string[]>({ path: '_all_dbs' });
  return all.filter((db) => db.startsWith(prefix)).sort();
}

/**
 * Creates the push and pull replications for every edgedns database of either side. `localUrl` is how the local
 * server reaches itself and `peerUrl` how it reaches the peer: the server, not this process, makes the requests.
 */
export async function join(local: CouchServer, peerUrl: string, prefix: string, mainDb: string): Promise<JoinResult[]> {
  const peer = couchServer({ url: peerUrl });
  await ensureDatabase(local, REPLICATOR_DB);
  await ensureDatabase(local, mainDb);
  const dbs = new Set([mainDb, ...(await edgednsDatabases(local, prefix))]);
  try {
    for (const db of await edgednsDatabases(peer, prefix)) dbs.add(db);
  } catch (err) {
    // The peer's own list only adds databases it has and we lack; replication creates them when it gets through.
    if (err instanceof CouchError) throw err;
  }
  const results: JoinResult[] = [];
  const joinedAt = new Date().toISOString();
  for (const db of [...dbs].sort()) {
    await ensureDatabase(local, db);
    const localDb = `${local.authUrl}${db}`;
    const peerDb = `${peer.authUrl}${db}`;
    results.push(await ensureReplication(local, { _id: replicationId('push', db, peerUrl), source: localDb, target: peerDb, continuous: true, create_target: true, edgedns_joined_at: joinedAt }));
    results.push(await ensureReplication(local, { _id: replicationId('pull', db, peerUrl), source: peerDb, target: localDb, continuous: true, edgedns_joined_at: joinedAt }));
  }
  return results;
}

async function ensureReplication(local: CouchServer, wanted: ReplicationDoc): Promise<JoinResult> {
  const where = parseId(wanted._id);
  if (!where) throw new Error(`bad replication id ${wanted._id}`);
  const base = { id: wanted._id, db: where.db, direction: where.direction };
  const existing = await getDoc(local, wanted._id);
  if (existing && existing.source === wanted.source && existing.target === wanted.target && existing.continuous === true) {
    return { ...base, created: false };
  }
  // A replication document cannot be edited while it runs (CouchDB and pouchdb-server): replace it.
  if (existing?._rev) await local.request({ db: REPLICATOR_DB, method: 'DELETE', path: docPath(wanted._id), qs: { rev: existing._rev } });
  try {
    await local.request({ db: REPLICATOR_DB, method: 'PUT', path: docPath(wanted._id), body: wanted });
  } catch (err) {
    // Another `join` of the same peer won the race and wrote the same document.
    if (statusOf(err) !== 409) throw err;
    return { ...base, created: false };
  }
  return { ...base, created: true };
}

async function getDoc(local: CouchServer, id: string): Promise<ReplicationDoc | undefined> {
  try {
    return await local.request<ReplicationDoc>({ db: REPLICATOR_DB, path: docPath(id) });
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export async function ourDocs(local: CouchServer): Promise<ReplicationDoc[]> {
  try {
    const { rows } = await local.request<{ rows: { doc?: ReplicationDoc }[] }>({
      db: REPLICATOR_DB,
      path: '_all_docs',
      // nano JSON-encodes startkey and endkey itself.
      qs: { include_docs: true, startkey: ID_PREFIX, endkey: `${ID_PREFIX}\ufff0` },
    });
    return rows.flatMap((row) => (row.doc ? [row.doc] : []));
  } catch (err) {
    if (statusOf(err) === 404) return [];
    throw err;
  }
}

/** Removes every replication with the peer; returns the ids removed (none when it was not joined). */
export async function leave(local: CouchServer, peerUrl: string): Promise<string[]> {
  const peer = peerKey(peerUrl);
  const removed: string[] = [];
  for (const doc of await ourDocs(local)) {
    if (parseId(doc._id)?.peer !== peer || !doc._rev) continue;
    try {
      await local.request({ db: REPLICATOR_DB, method: 'DELETE', path: docPath(doc._id), qs: { rev: doc._rev } });
      removed.push(doc._id);
    } catch (err) {
      // Deleted meanwhile (a concurrent leave): the outcome is the one asked for.
      if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
    }
  }
  return removed;
}

export interface SchedulerDoc {
  doc_id?: string;
  state?: string;
  info?: { checkpointed_source_seq?: unknown; changes_pending?: unknown; error?: unknown } | null;
  error_count?: number;
}

/**
 * CouchDB 3's view of every replication document of `_replicator`, by id, in one request; undefined on servers
 * without the scheduler (pouchdb-server).
 */
export async function schedulerDocs(local: CouchServer): Promise<Map<string, SchedulerDoc> | undefined> {
  try {
    const { docs } = await local.request<{ docs?: SchedulerDoc[] }>({ path: `_scheduler/docs/${REPLICATOR_DB}`, qs: { limit: 10_000 } });
    return new Map((docs ?? []).flatMap((d): [string, SchedulerDoc][] => (typeof d.doc_id === 'string' ? [[d.doc_id, d]] : [])));
  } catch (err) {
    const status = statusOf(err);
    if (status === 404 || status === 400) return undefined;
    throw err;
  }
}

/**
 * Starts a replication again at once: its document is deleted and written anew (with the time of the restart, which
 * also makes it a new replication to pouchdb-server). CouchDB 3 starts a new document's job right away, with none of
 * the back-off a crashed job waits out. False when the document is gone (left meanwhile).
 */
export async function restartReplication(local: CouchServer, id: string): Promise<boolean> {
  const doc = await getDoc(local, id);
  if (!doc?._rev) return false;
  try {
    await local.request({ db: REPLICATOR_DB, method: 'DELETE', path: docPath(id), qs: { rev: doc._rev } });
  } catch (err) {
    if (statusOf(err) === 404 || statusOf(err) === 409) return false;
    throw err;
  }
  // The replicator's own bookkeeping (_replication_state, _replication_id, …) stays behind with the old revision.
  const fresh: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) if (!key.startsWith('_') || key === '_id') fresh[key] = value;
  fresh.edgedns_restarted_at = new Date().toISOString();
  try {
    await local.request({ db: REPLICATOR_DB, method: 'PUT', path: docPath(id), body: fresh });
  } catch (err) {
    // A concurrent join wrote it again: it runs.
    if (statusOf(err) !== 409) throw err;
  }
  return true;
}

/** The server part of a database URL a replication document names ("http://u:p@host:5984/edgedns_data" → server). */
export function serverOfDbUrl(dbUrl: string, db: string): CouchServer {
  const url = dbUrl.endsWith(`/${db}`) ? dbUrl.slice(0, -db.length) : dbUrl;
  return couchServer({ url });
}
