// Reads PouchDB's LevelDB files directly for PouchStore.list. PouchDB's allDocs reads each document's body with its
// own LevelDB get, one after another (~12 µs of main-thread work each, and the garbage of its streams): 100,000 zone
// documents took 6 s at start (issue 7). Here the metadata is one LevelDB iterator and the bodies one getMany per
// batch. It follows pouchdb-adapter-leveldb's layout: sublevel "document-store" (id → metadata with the cached
// winningRev and deleted flag) and "by-sequence" (16-digit seq → body). Anything else found there (metadata without
// those fields, a missing body) answers undefined and PouchStore falls back to allDocs.

import { createRequire } from 'node:module';

/** The part of leveldown (abstract-leveldown 7) used here. */
export interface LevelDown {
  iterator(options: { gte: Buffer; lt: Buffer; keys: boolean; valueAsBuffer: boolean; fillCache: boolean }): LevelIterator;
  getMany(keys: string[], options: { asBuffer: boolean; fillCache: boolean }, callback: (err: Error | null, values: (string | undefined)[]) => void): void;
}

interface LevelIterator {
  next(callback: (err: Error | null, key?: unknown, value?: string) => void): void;
  end(callback: (err?: Error | null) => void): void;
}

type LevelDownFactory = (location: string) => LevelDown;

/** The leveldown PouchDB itself would use, wrapped so the store keeps the instance it opens. */
export function capturingLeveldown(onOpen: (db: LevelDown) => void): LevelDownFactory {
  const leveldown = createRequire(createRequire(import.meta.url).resolve('pouchdb'))('leveldown') as LevelDownFactory;
  // PouchDB keys its open databases by this function's name: one name for all, as with plain leveldown.
  return function leveldownForEdgedns(location: string): LevelDown {
    const db = leveldown(location);
    onOpen(db);
    return db;
  };
}

const DOC_STORE = '\xffdocument-store\xff';
const BY_SEQ = '\xffby-sequence\xff';
const BATCH = 1000;
// Reads here pass over everything once; fillCache: false keeps them from filling LevelDB's block cache (8 MB of RSS).

interface Metadata {
  id?: unknown;
  winningRev?: unknown;
  deleted?: unknown;
  rev_map?: Record<string, unknown>;
}

class Unexpected extends Error {}

/** Live documents whose id starts with `prefix`, in id order, as allDocs with include_docs gives them. */
export async function listDirect(db: LevelDown, prefix: string): Promise<Record<string, unknown>[] | undefined> {
  try {
    const wanted = await liveRevisions(db, prefix);
    const docs: Record<string, unknown>[] = [];
    for (let i = 0; i < wanted.length; i += BATCH) {
      const batch = wanted.slice(i, i + BATCH);
      const bodies = await getMany(db, batch.map(({ seq }) => BY_SEQ + String(seq).padStart(16, '0')));
      bodies.forEach((body, j) => {
        if (body === undefined) throw new Unexpected('missing body');
        const doc = JSON.parse(body) as Record<string, unknown>;
        doc._rev = batch[j].rev;
        const attachments = doc._attachments;
        if (attachments && typeof attachments === 'object') for (const stub of Object.values(attachments)) (stub as { stub?: boolean }).stub = true;
        docs.push(doc);
      });
    }
    return docs;
  } catch (err) {
    // RangeError: a revision tree too deep for JSON.parse, which PouchDB reads with vuvuzela instead
    if (err instanceof Unexpected || err instanceof SyntaxError || err instanceof RangeError) return undefined;
    throw err;
  }
}

async function liveRevisions(db: LevelDown, prefix: string): Promise<{ rev: string; seq: number }[]> {
  const start = Buffer.from(DOC_STORE + prefix);
  // 0xff never occurs in UTF-8, so this bound is past every id that starts with the prefix
  const iterator = db.iterator({ gte: start, lt: Buffer.concat([start, Buffer.from([0xff])]), keys: false, valueAsBuffer: false, fillCache: false });
  const out: { rev: string; seq: number }[] = [];
  try {
    for (;;) {
      const value = await new Promise<string | undefined>((resolve, reject) => iterator.next((err, _key, v) => (err ? reject(err) : resolve(v))));
      if (value === undefined) return out;
      const metadata = JSON.parse(value) as Metadata;
      const { winningRev, deleted } = metadata;
      if (typeof winningRev !== 'string' || typeof deleted !== 'boolean') throw new Unexpected('metadata without winningRev');
      if (deleted) continue;
      const seq = metadata.rev_map?.[winningRev];
      if (typeof seq !== 'number') throw new Unexpected('metadata without the winning sequence');
      out.push({ rev: winningRev, seq });
    }
  } finally {
    await new Promise<void>((resolve) => iterator.end(() => resolve()));
  }
}

function getMany(db: LevelDown, keys: string[]): Promise<(string | undefined)[]> {
  return new Promise((resolve, reject) => db.getMany(keys, { asBuffer: false, fillCache: false }, (err, values) => (err ? reject(err) : resolve(values))));
}
