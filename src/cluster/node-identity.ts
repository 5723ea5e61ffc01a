// Which edgedns node a CouchDB database belongs to: each node writes its id into a `_local` document of its own
// database (local documents never replicate), so a watchdog that reaches a peer's database by URL can name the node
// behind it, and `cluster status` can tell which links concern this node, whoever holds them.

import { docPath, statusOf, type CouchServer } from '../store/couch-http.js';

export const IDENTITY_ID = '_local/edgedns-node';

/** Writes (or confirms) this node's id into its database. */
export async function writeIdentity(server: CouchServer, db: string, nodeId: string): Promise<void> {
  let current: { _rev?: string; node?: string } | undefined;
  try {
    current = await server.request<{ _rev?: string; node?: string }>({ db, path: docPath(IDENTITY_ID) });
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  if (current?.node === nodeId) return;
  await server.request({ db, method: 'PUT', path: docPath(IDENTITY_ID), body: { node: nodeId, ...(current?._rev ? { _rev: current._rev } : {}) } });
}

/**
 * The node id written into a database, or undefined when none is (an older node, or not started yet). A peer's is
 * read with a `signal` that bounds the wait: a peer behind a network that drops packets never answers.
 */
export async function readIdentity(server: CouchServer, db: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const doc = await server.request<{ node?: unknown }>({ db, path: docPath(IDENTITY_ID), ...(signal ? { signal } : {}) });
    return typeof doc.node === 'string' ? doc.node : undefined;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}
