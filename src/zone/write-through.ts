// The store as the API writes zones through it: every zone or RRset document written is also handed to this
// node's zone sync at once (ZoneSync.written), so an API call that waits for "served here" waits for the index, not
// for the changes feed to bring back a write it made itself (issue 13: a 100,000-record import no longer waits for
// 100,000 documents to come back through the feed before it is answered).

import type { BulkResult, Store, StoredDoc, WriteResult } from '../store/store.js';

export type Written = (docs: readonly StoredDoc[]) => void;

export function writeThrough(store: Store, written: Written): Store {
  const through: Store = {
    get description() {
      return store.description;
    },
    get: (id) => store.get(id),
    async put(doc): Promise<WriteResult> {
      const result = await store.put(doc);
      written([{ ...doc, _rev: result.rev }]);
      return result;
    },
    async bulk(docs): Promise<BulkResult[]> {
      const results = await store.bulk(docs);
      // The zone writer's documents are its own, made for this one write: they take their new revision in place
      // (a 100,000-RRset import would otherwise hold a second copy of every document until it is served).
      written(docs.flatMap((doc, i) => (results[i]?.rev !== undefined && results[i].error === undefined ? [Object.assign(doc, { _rev: results[i].rev })] : [])));
      return results;
    },
    async remove(id, rev): Promise<WriteResult> {
      const result = await store.remove(id, rev);
      written([{ _id: id, _rev: result.rev, _deleted: true }]);
      return result;
    },
    list: (prefix) => store.list(prefix),
    updateSeq: () => store.updateSeq(),
    changes: (since, limit) => store.changes(since, limit),
    follow: (options) => store.follow(options),
    getMany: (ids) => store.getMany(ids),
    putAttachment: (id, name, rev, data, contentType) => store.putAttachment(id, name, rev, data, contentType),
    getAttachment: (id, name) => store.getAttachment(id, name),
    close: () => store.close(),
  };
  if (store.conflicts) through.conflicts = store.conflicts.bind(store);
  return through;
}
