// Replication conflicts: two nodes changed one document while they could not see each other. CouchDB keeps every
// branch, picks the same winner on every node (the revision with the longest history, then the highest revision
// id), and serves the winner; the losers stay as `_conflicts` until someone resolves them. Here they are listed, and
// resolved by keeping one revision: its content becomes the winner and the other branches are deleted.

import { docPath, statusOf } from '../store/couch-http.js';
import { closeBranches } from '../store/close-branches.js';
import { DESIGN_ID, type CouchStore } from '../store/couch-store.js';
import type { StoredDoc } from '../store/store.js';
import { NoSuchDocumentError, UnknownRevisionError } from '../errors.js';

export interface ConflictRevision {
  rev: string;
  doc: StoredDoc;
}

export interface Conflict {
  id: string;
  /** What every node serves now. */
  winner: ConflictRevision;
  /** Revisions that lost; nothing is dropped until resolved. */
  losers: ConflictRevision[];
}

export { NoSuchDocumentError, UnknownRevisionError } from '../errors.js';

/** At most this many conflicted documents per listing: enough to act on, bounded for one response. */
const MAX_LISTED = 1000;

export async function listConflicts(store: CouchStore): Promise<Conflict[]> {
  await store.ensure();
  const { rows } = await store.server.request<{ rows: { id: string }[] }>({
    db: store.db,
    path: `${DESIGN_ID}/_view/conflicts`,
    qs: { limit: MAX_LISTED },
  });
  const conflicts: Conflict[] = [];
  for (const { id } of rows) {
    const conflict = await readConflict(store, id);
    if (conflict) conflicts.push(conflict);
  }
  return conflicts;
}

/** The document's winner and losing revisions, or undefined when it has no conflicts (any more). */
export async function readConflict(store: CouchStore, id: string): Promise<Conflict | undefined> {
  let winner: StoredDoc & { _conflicts?: string[] };
  try {
    winner = await store.server.request({ db: store.db, path: docPath(id), qs: { conflicts: true } });
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
  const revs = winner._conflicts ?? [];
  if (revs.length === 0) return undefined;
  const losers: ConflictRevision[] = [];
  for (const rev of revs) {
    const doc = await store.server.request<StoredDoc>({ db: store.db, path: docPath(id), qs: { rev } });
    losers.push({ rev, doc: strip(doc) });
  }
  const { _conflicts: _ignored, ...body } = winner;
  return { id, winner: { rev: String(winner._rev), doc: strip(body) }, losers };
}

/**
 * Keeps revision `keep` of document `id`: when it is a loser, its content is written over the winner; then every
 * other branch is deleted, so the document has one revision again on every node once replication carries it.
 */
export async function resolveConflict(store: CouchStore, id: string, keep: string): Promise<{ id: string; rev: string; removed: string[] }> {
  const conflict = await readConflict(store, id);
  if (!conflict) {
    const exists = await store.get(id);
    if (!exists) throw new NoSuchDocumentError(id);
    if (exists._rev === keep) return { id, rev: keep, removed: [] };
    throw new UnknownRevisionError(id, keep);
  }
  const kept = conflict.winner.rev === keep ? conflict.winner : conflict.losers.find((loser) => loser.rev === keep);
  if (!kept) throw new UnknownRevisionError(id, keep);
  // The winning branch carries the kept content; then every losing branch is closed, the kept one included.
  let rev = conflict.winner.rev;
  if (kept !== conflict.winner) {
    const [result] = await store.bulk([{ ...kept.doc, _id: id, _rev: conflict.winner.rev }]);
    if (result.error !== undefined) throw new Error(`resolving ${id} failed: ${result.error} ${result.reason ?? ''}`.trim());
    rev = String(result.rev);
  }
  const removed = conflict.losers.map((loser) => loser.rev);
  await closeBranches(store, id, removed);
  return { id, rev, removed };
}

/** Revision bodies without CouchDB's bookkeeping fields. */
function strip(doc: StoredDoc): StoredDoc {
  const { _rev: _ignoredRev, _revisions: _ignoredRevisions, ...rest } = doc;
  return rest as StoredDoc;
}
