// Closing the losing branches of a document that replication left in conflict: one DELETE per revision. Never in one
// _bulk_docs that names the document twice: pouchdb-server, given an update of a document that conflicts and the
// deletion of one of its losing revisions in one request, lost the whole document (GET answered "missing"), and
// CouchDB documents no order for two entries of one id in one request.

import { ConflictError, NotFoundError, type Store } from './store.js';

/** Deletes each losing revision `revs` of `id`; one already closed (by another node, or gone) is skipped. Returns those deleted. */
export async function closeBranches(store: Store, id: string, revs: readonly string[]): Promise<string[]> {
  const closed: string[] = [];
  for (const rev of revs) {
    try {
      await store.remove(id, rev);
      closed.push(rev);
    } catch (err) {
      if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
    }
  }
  return closed;
}
