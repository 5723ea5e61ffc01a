// PouchStore.list reads PouchDB's LevelDB files itself (pouch-direct-read.ts) instead of asking allDocs. PouchDB is
// the reference: for every kind of document a store holds, the direct read must give exactly what allDocs with
// include_docs gives, filtered as PouchStore's fallback filters it. Each check first asserts that listDirect did not
// answer undefined, so a silent fallback to allDocs cannot pass for agreement.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PouchDB from 'pouchdb';
import t from 'tap';
import { capturingLeveldown, listDirect, type LevelDown } from '../../src/store/pouch-direct-read.js';
import { PouchStore } from '../../src/store/pouch-store.js';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

/** PouchDB calls src/store/pouchdb.d.ts leaves out: replicated (new_edits: false) writes and conflict listing. */
interface ReplicaWrites {
  bulkDocs(docs: PouchDB.Doc[], options: { new_edits: false }): Promise<unknown[]>;
  get(id: string, options: { conflicts: true }): Promise<PouchDB.Doc & { _conflicts?: string[] }>;
}

interface Fixture {
  dir: string;
  db: PouchDB;
  level: LevelDown;
  replica: ReplicaWrites;
  /** Closes the database (once), so a PouchStore may open the directory. */
  close(): Promise<void>;
}

/** A PouchDB opened the way PouchStore.open opens it, keeping the LevelDB instance listDirect reads. */
async function open(t: TapTest): Promise<Fixture> {
  const parent = await mkdtemp(join(tmpdir(), 'edgedns-pouch-direct-'));
  const dir = join(parent, 'db');
  let level: LevelDown | undefined;
  const db = new PouchDB(dir, { db: capturingLeveldown((opened) => (level = opened)) });
  await db.info();
  if (level === undefined) throw new Error('PouchDB opened its LevelDB without the capturing leveldown');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= db.close());
  t.teardown(async () => {
    await close();
    await rm(parent, { recursive: true, force: true });
  });
  return { dir, db, level, replica: db as unknown as ReplicaWrites, close };
}

/** PouchStore.list's fallback, word for word: the reference the direct read must match. */
async function viaAllDocs(db: PouchDB, prefix: string): Promise<PouchDB.Doc[]> {
  const range = { startkey: prefix, endkey: `${prefix}\u{10ffff}` };
  const { rows } = await db.allDocs({ ...range, include_docs: true });
  const docs: PouchDB.Doc[] = [];
  for (const row of rows) {
    if (row.doc && row.value.deleted !== true) docs.push(row.doc);
  }
  return docs;
}

/** Asserts, for each prefix, that the direct read was taken and equals allDocs; returns allDocs' answers. */
async function agree(t: TapTest, { db, level }: Fixture, prefixes: string[]): Promise<Map<string, PouchDB.Doc[]>> {
  const expected = new Map<string, PouchDB.Doc[]>();
  for (const prefix of prefixes) {
    const label = prefix.length > 40 ? `${JSON.stringify(prefix.slice(0, 40))}… (${prefix.length} chars)` : JSON.stringify(prefix);
    const direct = await listDirect(level, prefix);
    const reference = await viaAllDocs(db, prefix);
    t.not(direct, undefined, `prefix ${label}: read directly, not left to the allDocs fallback`);
    t.strictSame(direct, reference, `prefix ${label}: the same documents, order, revisions and bodies as allDocs`);
    expected.set(prefix, reference);
  }
  return expected;
}

function ids(docs: PouchDB.Doc[] | undefined): string[] {
  return (docs ?? []).map((doc) => doc._id);
}

t.test('created documents are listed with their revision and body', async (t) => {
  const fixture = await open(t);
  await fixture.db.put({ _id: 'zone/example.com.', type: 'zone', serial: 1 });
  await fixture.db.put({ _id: 'zone/example.net.', type: 'zone', serial: 7, nested: { list: [1, 'two', null, true], empty: {} } });
  await fixture.db.put({ _id: 'rrset/example.com./www/A', type: 'rrset', records: ['192.0.2.1', '192.0.2.2'], ttl: 300 });
  await fixture.db.put({ _id: 'rrset/example.com./@/SOA', type: 'rrset', records: ['ns1. host. 1 2 3 4 5'] });
  await fixture.db.put({ _id: 'rrset/example.net./www/AAAA', type: 'rrset', records: ['2001:db8::1'] });
  await fixture.db.put({ _id: 'edge/paris', lat: 48.85, lon: 2.35, weight: 0.5, big: 1e21, unicode: 'café ☕' });

  const listed = await agree(t, fixture, ['', 'zone/', 'rrset/', 'rrset/example.com./', 'rrset/example.com./www/A', 'edge/']);
  t.strictSame(ids(listed.get('rrset/example.com./')), ['rrset/example.com./@/SOA', 'rrset/example.com./www/A'], 'in id order');
  t.equal(listed.get('')?.length, 6, 'every document under the empty prefix');
});

t.test('a document updated several times is listed at its latest revision and body', async (t) => {
  const fixture = await open(t);
  let rev = (await fixture.db.put({ _id: 'zone/example.com.', serial: 1, dropped: 'only in the first revision' })).rev;
  let neighbour = (await fixture.db.put({ _id: 'zone/example.net.', serial: 1 })).rev;
  for (let serial = 2; serial <= 6; serial++) {
    rev = (await fixture.db.put({ _id: 'zone/example.com.', _rev: rev, serial })).rev;
    // Interleaved writes give the two documents' revisions sequences that are not consecutive.
    neighbour = (await fixture.db.put({ _id: 'zone/example.net.', _rev: neighbour, serial: serial * 10 })).rev;
  }

  const listed = await agree(t, fixture, ['', 'zone/', 'zone/example.com.']);
  const [doc] = listed.get('zone/example.com.') ?? [];
  t.equal(doc?._rev, rev, 'the latest revision');
  t.match(doc?._rev, /^6-/, 'after five updates');
  t.strictSame(doc, { _id: 'zone/example.com.', _rev: rev, serial: 6 }, 'the latest body, without fields an older revision had');
});

t.test('deleted documents are not listed', async (t) => {
  const fixture = await open(t);
  const kept = await fixture.db.put({ _id: 'key/kept', scope: 'admin' });
  const removed = await fixture.db.put({ _id: 'key/removed', scope: 'admin' });
  await fixture.db.remove('key/removed', removed.rev);
  const updated = await fixture.db.put({ _id: 'key/updated-then-removed', n: 1 });
  const again = await fixture.db.put({ _id: 'key/updated-then-removed', _rev: updated.rev, n: 2 });
  await fixture.db.remove('key/updated-then-removed', again.rev);
  // A deletion that keeps a body, as CouchDB allows: still a deletion.
  const bodied = await fixture.db.put({ _id: 'key/deleted-with-body', n: 1 });
  await fixture.db.put({ _id: 'key/deleted-with-body', _rev: bodied.rev, _deleted: true, reason: 'revoked' });
  const batch = await fixture.db.bulkDocs([{ _id: 'key/bulk-1' }, { _id: 'key/bulk-2' }, { _id: 'key/bulk-3' }]);
  await fixture.db.bulkDocs(batch.slice(0, 2).map((result) => ({ _id: result.id ?? '', _rev: 'rev' in result ? result.rev : '', _deleted: true })));

  const listed = await agree(t, fixture, ['', 'key/', 'key/removed', 'key/bulk-']);
  t.strictSame(ids(listed.get('key/')), ['key/bulk-3', 'key/kept'], 'only the live ones');
  t.strictSame(listed.get('key/removed'), [], 'a prefix naming only a deleted document lists nothing');
  t.equal(listed.get('key/')?.[1]?._rev, kept.rev, 'the untouched document at its first revision');
});

t.test('a document deleted and created again is listed at its new revision', async (t) => {
  const fixture = await open(t);
  const first = await fixture.db.put({ _id: 'site/blog', production: 'deploy/1', old: true });
  await fixture.db.remove('site/blog', first.rev);
  const recreated = await fixture.db.put({ _id: 'site/blog', production: 'deploy/2' });
  const twice = await fixture.db.put({ _id: 'site/docs', production: 'deploy/a' });
  const gone = await fixture.db.remove('site/docs', twice.rev);
  const back = await fixture.db.put({ _id: 'site/docs', production: 'deploy/b' });
  const updated = await fixture.db.put({ _id: 'site/docs', _rev: back.rev, production: 'deploy/c' });

  const listed = await agree(t, fixture, ['', 'site/', 'site/blog', 'site/docs']);
  t.match(recreated.rev, /^3-/, 'the new document continues the deleted one\'s revision tree');
  t.strictSame(listed.get('site/blog'), [{ _id: 'site/blog', _rev: recreated.rev, production: 'deploy/2' }], 'the new body, nothing of the deleted one');
  t.match(gone.rev, /^2-/, 'the second document was deleted at its second revision');
  t.strictSame(listed.get('site/docs'), [{ _id: 'site/docs', _rev: updated.rev, production: 'deploy/c' }], 'deleted, created again and updated');
});

t.test('attachments are listed as the stubs allDocs gives, never their bytes', async (t) => {
  const fixture = await open(t);
  const bytes = Buffer.from('<html>hello</html>');
  // putAttachment on a new id creates the document, as a deploy's blob upload does.
  const blob = await fixture.db.putAttachment('blob/sha256-1', 'data', bytes, 'text/html');
  await fixture.db.put({ ...(await fixture.db.get('blob/sha256-1')), kind: 'blob', size: bytes.length });
  await fixture.db.put({
    _id: 'blob/sha256-2',
    kind: 'blob',
    _attachments: { data: { content_type: 'application/octet-stream', data: Buffer.from([0, 1, 2, 255]).toString('base64') } },
  });
  const two = await fixture.db.putAttachment('blob/sha256-3', 'first', Buffer.from('one'), 'text/plain');
  const withSecond = await fixture.db.putAttachment('blob/sha256-3', 'second', two.rev, Buffer.alloc(70_000, 7), 'image/png');
  // Replacing an attachment's bytes moves its digest and revpos.
  await fixture.db.putAttachment('blob/sha256-3', 'first', withSecond.rev, Buffer.from('one, replaced'), 'text/plain');
  await fixture.db.put({ _id: 'blob/no-attachments', kind: 'blob' });

  const listed = await agree(t, fixture, ['', 'blob/', 'blob/sha256-1', 'blob/sha256-3']);
  t.match(blob.rev, /^1-/, 'putAttachment created the document');
  const docs = listed.get('blob/') ?? [];
  t.strictSame(ids(docs), ['blob/no-attachments', 'blob/sha256-1', 'blob/sha256-2', 'blob/sha256-3'], 'every blob');
  const stubs = docs.flatMap((doc) => Object.values((doc._attachments ?? {}) as Record<string, Record<string, unknown>>));
  t.equal(stubs.length, 4, 'four attachments over three documents');
  for (const stub of stubs) {
    t.match(stub, { content_type: String, length: Number, digest: /^md5-/, stub: true }, 'a stub with its type, length and digest');
    t.notOk('data' in stub, 'and no bytes');
  }
  t.match(docs[3]?._attachments, { first: { length: 13 }, second: { length: 70_000, content_type: 'image/png' } }, 'a replaced attachment at its new length, the other kept');
});

t.test('ids with unusual characters are listed under their prefixes', async (t) => {
  const fixture = await open(t);
  const long = `rrset/long.example./${'a'.repeat(5000)}/TXT`;
  const odd = [
    'rrset/ünïcödé.example./www/A',
    'rrset/例え.テスト./www/A',
    'rrset/\u00ff.example./@/A',
    'rrset/\u00ff\u00ff.example./@/A',
    'rrset/\u00fe.example./@/A',
    'rrset/a/b/c//d/A',
    'rrset/with space./@/A',
    'rrset/quote"and\\backslash./@/A',
    'rrset/control\u0001char./@/A',
    'rrset/\ud7ff.example./@/A',
    'rrset/\ue000.private-use./@/A',
    'rrset/\ufff0',
    long,
    'rrset',
    'rrset.',
    'rrset0',
  ];
  for (const [i, id] of odd.entries()) await fixture.db.put({ _id: id, n: i });

  const listed = await agree(t, fixture, [
    '',
    'rrset/',
    'rrset/\u00ff',
    'rrset/\u00fe',
    'rrset/ü',
    'rrset/例え',
    'rrset/a/',
    'rrset/a/b/c//',
    'rrset/long.example./',
    long,
    'rrset/\ud7ff',
    'rrset/\ufff0',
    'rrset',
  ]);
  t.equal(listed.get('rrset/')?.length, 13, 'every id under "rrset/", the one at U+FFF0 included');
  t.strictSame(ids(listed.get('rrset/\u00ff')), ['rrset/\u00ff.example./@/A', 'rrset/\u00ff\u00ff.example./@/A'], 'U+00FF is an ordinary character, not a bound');
  t.strictSame(ids(listed.get(long)), [long], 'a 5000-character id as its own prefix');
  t.equal(listed.get('rrset')?.length, 16, '"rrset" itself, "rrset.", "rrset0" and everything under "rrset/"');
});

// PouchDB's LevelDB adapter compares keys as UTF-8 bytes. These two cases once disagreed: an endkey of prefix +
// U+FFF0 missed ids whose next character is above it (U+FFFD, anything outside the BMP), and a read with no range
// stops at "\xff" (apache/pouchdb#6375). The fallback now bounds every prefix with U+10FFFF, as the direct read lists
// every id that starts with the prefix.
t.test('ids whose character after the prefix is above U+FFF0 are listed as allDocs lists them', async (t) => {
  const fixture = await open(t);
  for (const id of ['zone/a.example.', 'zone/\ufff0', 'zone/\ufffd.example.', 'zone/\u{1f600}.example.', 'zone/\u{20000}.example.']) {
    await fixture.db.put({ _id: id });
  }
  await agree(t, fixture, ['zone/']);
});

t.test('ids that begin above U+00FF are listed under the empty prefix as allDocs lists them', async (t) => {
  const fixture = await open(t);
  for (const id of ['a', '\u00ff', '\u00ffa', '\u0100', '\u4f8b', '\u{1f600}']) await fixture.db.put({ _id: id });
  await agree(t, fixture, ['']);
});

t.test('prefixes that match nothing list nothing', async (t) => {
  const fixture = await open(t);
  for (const id of ['zone/a.example.', 'zone/b.example.', 'rrset/a.example./www/A']) await fixture.db.put({ _id: id });

  const listed = await agree(t, fixture, ['nothing/', 'zone/a.example.x', 'zone/c', 'zonf', 'a', '\u00ff', '\uffef', '\u{1f600}']);
  for (const [prefix, docs] of listed) t.strictSame(docs, [], `allDocs lists nothing for ${JSON.stringify(prefix)} either`);
  const empty = await open(t);
  await agree(t, empty, ['', 'zone/']);
});

t.test('the empty prefix lists every document, design documents included and local documents not', async (t) => {
  const fixture = await open(t);
  await fixture.db.put({ _id: '_design/views', views: { byType: { map: 'function (doc) { emit(doc.type); }' } } });
  await fixture.db.put({ _id: '_local/checkpoint', seq: 12 });
  await fixture.db.put({ _id: '!first', n: 0 });
  await fixture.db.put({ _id: 'zone/example.com.', n: 1 });
  await fixture.db.put({ _id: '\u00e9', n: 2 });
  await fixture.db.put({ _id: '\u00ff', n: 3 });

  const listed = await agree(t, fixture, ['', '_', '_design/', '_local/']);
  t.strictSame(ids(listed.get('')), ['!first', '_design/views', 'zone/example.com.', '\u00e9', '\u00ff'], 'in UTF-8 byte order');
  t.strictSame(listed.get('_local/'), [], 'local documents are not documents');
});

t.test('a conflicted document is listed at its winning revision', async (t) => {
  const fixture = await open(t);
  const { replica } = fixture;
  const a = 'a'.repeat(32);
  const b = 'b'.repeat(32);
  const c = 'c'.repeat(32);
  const d = 'd'.repeat(32);
  // Two nodes edited the same revision: both branches arrive by replication, as PouchDB writes them.
  await replica.bulkDocs([{ _id: 'health/node-1', _rev: `1-${a}`, up: true }], { new_edits: false });
  await replica.bulkDocs(
    [
      { _id: 'health/node-1', _rev: `2-${b}`, _revisions: { start: 2, ids: [b, a] }, up: false, from: 'b' },
      { _id: 'health/node-1', _rev: `2-${c}`, _revisions: { start: 2, ids: [c, a] }, up: true, from: 'c' },
    ],
    { new_edits: false },
  );
  // A longer branch that ends deleted loses to a shorter live one.
  await replica.bulkDocs(
    [
      { _id: 'health/node-2', _rev: `2-${b}`, _revisions: { start: 2, ids: [b, a] }, from: 'live' },
      { _id: 'health/node-2', _rev: `3-${d}`, _revisions: { start: 3, ids: [d, c, a] }, _deleted: true },
    ],
    { new_edits: false },
  );
  // The winner arrives first here, so it is not simply the last write.
  await replica.bulkDocs([{ _id: 'health/node-3', _rev: `3-${b}`, _revisions: { start: 3, ids: [b, d, a] }, from: 'longer' }], { new_edits: false });
  await replica.bulkDocs([{ _id: 'health/node-3', _rev: `2-${c}`, _revisions: { start: 2, ids: [c, a] }, from: 'shorter' }], { new_edits: false });
  // Every branch deleted: not listed.
  await replica.bulkDocs(
    [
      { _id: 'health/node-4', _rev: `2-${b}`, _revisions: { start: 2, ids: [b, a] }, _deleted: true },
      { _id: 'health/node-4', _rev: `2-${c}`, _revisions: { start: 2, ids: [c, a] }, _deleted: true },
    ],
    { new_edits: false },
  );

  const conflicted = await replica.get('health/node-1', { conflicts: true });
  t.strictSame(conflicted._conflicts, [`2-${b}`], 'the fixture holds a conflict');
  const listed = await agree(t, fixture, ['', 'health/', 'health/node-1', 'health/node-2', 'health/node-3', 'health/node-4']);
  t.strictSame(listed.get('health/node-1'), [{ _id: 'health/node-1', _rev: `2-${c}`, up: true, from: 'c' }], 'the higher revision id wins');
  t.strictSame(listed.get('health/node-2'), [{ _id: 'health/node-2', _rev: `2-${b}`, from: 'live' }], 'a live leaf beats a deleted one');
  t.strictSame(listed.get('health/node-3'), [{ _id: 'health/node-3', _rev: `3-${b}`, from: 'longer' }], 'the longer branch wins, though it arrived first');
  t.strictSame(listed.get('health/node-4'), [], 'a document with only deleted leaves');
});

t.test('thousands of documents are read across the 1000-document batches', async (t) => {
  const fixture = await open(t);
  const { db } = fixture;
  const pad = (n: number): string => String(n).padStart(5, '0');
  // Live counts on either side of a batch: 999, 1000, 1001, and 2001 once deletions and updates are done.
  const groups: [string, number][] = [
    ['rrset/a.example./', 999],
    ['rrset/b.example./', 1000],
    ['rrset/c.example./', 1001],
    ['rrset/d.example./', 2301],
  ];
  for (const [prefix, count] of groups) {
    const docs = Array.from({ length: count }, (_, i) => ({ _id: `${prefix}${pad(i)}/A`, type: 'rrset', records: [`192.0.2.${i % 256}`], i }));
    for (let i = 0; i < docs.length; i += 500) await db.bulkDocs(docs.slice(i, i + 500));
  }
  // In d: delete every 23rd and the last 199 (2301 - 101 - 199 = 2001 live), then update every 7th of those left, so
  // the winning revisions of one batch sit at sequences far apart and out of id order.
  const dRange = { startkey: 'rrset/d.example./', endkey: 'rrset/d.example./\ufff0' };
  const all = (await db.allDocs(dRange)).rows;
  const doomed = [...all.filter((_, i) => i % 23 === 0), ...all.filter((_, i) => i % 23 !== 0).slice(-199)];
  await db.bulkDocs(doomed.map((row) => ({ _id: row.id, _rev: row.value.rev, _deleted: true })));
  const live = (await db.allDocs({ ...dRange, include_docs: true })).rows;
  const changed = live.filter((_, i) => i % 7 === 0);
  await db.bulkDocs(changed.map((row) => ({ ...row.doc, _id: row.id, _rev: row.value.rev, records: ['198.51.100.1'], updated: true })));

  const listed = await agree(t, fixture, ['', 'rrset/', 'rrset/a.example./', 'rrset/b.example./', 'rrset/c.example./', 'rrset/d.example./', 'rrset/d.example./01']);
  t.strictSame(
    groups.map(([prefix]) => listed.get(prefix)?.length),
    [999, 1000, 1001, 2001],
    'live documents on either side of a batch boundary',
  );
  t.equal(listed.get('')?.length, 5001, 'all of them under the empty prefix');
  t.equal(listed.get('rrset/d.example./')?.filter((doc) => doc.updated === true && /^2-/.test(doc._rev ?? '')).length, changed.length, 'each update read at its new revision');
});

t.test('a reopened store lists what it listed before, through PouchStore.list too', async (t) => {
  const fixture = await open(t);
  const rev = (await fixture.db.put({ _id: 'pool/web', members: ['paris'] })).rev;
  await fixture.db.put({ _id: 'pool/web', _rev: rev, members: ['paris', 'tokyo'] });
  const gone = await fixture.db.put({ _id: 'pool/old', members: [] });
  await fixture.db.remove('pool/old', gone.rev);
  await fixture.db.putAttachment('blob/x', 'data', Buffer.from('x'), 'text/plain');
  const prefixes = ['', 'pool/', 'blob/'];
  const before = await agree(t, fixture, prefixes);
  await fixture.close();

  const store = await PouchStore.open(fixture.dir);
  t.teardown(() => store.close());
  for (const prefix of prefixes) t.strictSame(await store.list(prefix), before.get(prefix), `PouchStore.list(${JSON.stringify(prefix)})`);
  await store.close();

  let level: LevelDown | undefined;
  const reopened = new PouchDB(fixture.dir, { db: capturingLeveldown((opened) => (level = opened)) });
  t.teardown(() => reopened.close().catch(() => undefined));
  await reopened.info();
  if (level === undefined) throw new Error('PouchDB reopened its LevelDB without the capturing leveldown');
  for (const prefix of prefixes) {
    t.strictSame(await listDirect(level, prefix), before.get(prefix), `listDirect(${JSON.stringify(prefix)}) after a restart`);
  }
});
