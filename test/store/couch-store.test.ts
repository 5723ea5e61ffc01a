// The shared Store contract against CouchStore on a real CouchDB-protocol server: pouchdb-server on loopback, or
// the CouchDB at EDGEDNS_TEST_COUCHDB=URL when set (so the same suite checks Apache CouchDB 3).

import t from 'tap';
import { CouchStore, DESIGN_ID } from '../../src/store/couch-store.js';
import { couchServer } from '../../src/store/couch-http.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { storeContract } from './contract.js';
import type { Change } from '../../src/store/store.js';
import { waitFor } from '../helpers/wait-for.js';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

const external = process.env.EDGEDNS_TEST_COUCHDB;
const server = external ? undefined : await startPouchServer({ inMemory: true });
t.teardown(() => server?.destroy());
const url = external ?? server!.url;
let counter = 0;
const runId = `${process.pid}`;

function freshPrefix(): string {
  counter++;
  return `edgedns_t${runId}_${counter}_`;
}

async function dropDatabase(store: CouchStore): Promise<void> {
  await store.server.request({ db: store.db, method: 'DELETE' }).catch(() => undefined);
}

await storeContract(t, 'CouchStore', async () => {
  const prefix = freshPrefix();
  const opened = [new CouchStore({ url, prefix })];
  return {
    store: opened[0],
    async reopen() {
      const store = new CouchStore({ url, prefix });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
      await dropDatabase(opened[0]);
    },
  };
});

t.test('the database and design document are created once, however many nodes start at once', async (t) => {
  const prefix = freshPrefix();
  const stores = Array.from({ length: 5 }, () => new CouchStore({ url, prefix }));
  t.teardown(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await dropDatabase(stores[0]);
  });
  await Promise.all(stores.map((store) => store.ensure()));
  const design = await couchServer({ url }).request<{ _rev: string }>({ db: stores[0].db, path: DESIGN_ID });
  t.match(design._rev, /^1-/, 'written once, never rewritten');
  await new CouchStore({ url, prefix }).ensure();
  const again = await couchServer({ url }).request<{ _rev: string }>({ db: stores[0].db, path: DESIGN_ID });
  t.equal(again._rev, design._rev, 'a later start changes nothing');
  t.same(await stores[0].list(''), [], 'the design document is not a listed document');
});

t.test('credentials from EDGEDNS_COUCHDB_USER/_PASSWORD go in the request, never in the description', async (t) => {
  const store = new CouchStore({ url, prefix: freshPrefix(), user: 'admin', password: 's3cret' });
  t.notMatch(store.description, /s3cret/);
  t.match(store.server.authUrl, /admin:s3cret@/);
});

/** A store on a new database, followed from now for `prefixes`; its longpolls last 1 s. */
async function followed(t: TapTest, prefixes: string[]): Promise<{ store: CouchStore; seen: Change[]; errors: string[] }> {
  const store = new CouchStore({ url, prefix: freshPrefix(), longpollMs: 1000 });
  t.teardown(async () => {
    await store.close();
    await dropDatabase(store);
  });
  await store.ensure();
  const seen: Change[] = [];
  const errors: string[] = [];
  const follower = store.follow({ since: await store.updateSeq(), prefixes, onChange: (c) => seen.push(c), onError: (e) => errors.push(e.message) });
  t.teardown(() => follower.cancel());
  return { store, seen, errors };
}

t.test('a follower given id prefixes is sent only changes under them, and resumes from what it was sent', async (t) => {
  const { store, seen, errors } = await followed(t, ['zone/', 'rrset/']);
  await store.bulk([{ _id: 'key/a' }, { _id: 'health/n1' }, { _id: 'zone/example.org.' }, { _id: 'zonefile' }, { _id: 'rrset/example.org./www.example.org./A' }]);
  await waitFor(() => seen.length >= 2, { what: 'the two changes under the prefixes', timeoutMs: 5000 });
  await store.put({ _id: 'zone/last.' });
  await waitFor(() => seen.some((c) => c.id === 'zone/last.'), { what: 'a later change', timeoutMs: 5000 });
  t.same(seen.map((c) => c.id), ['zone/example.org.', 'rrset/example.org./www.example.org./A', 'zone/last.'], 'nothing else was sent');
  t.same(errors, [], 'no error');
  const after = (await store.changes(seen[1].seq)).results.map((c) => c.id);
  t.same(after, ['zone/last.'], "the seq of a change it was sent is a checkpoint the store's changes resume from");
});

t.test('a follower on an idle database reports no failure, and still delivers the next write', async (t) => {
  // pouchdb-server ignores a longpoll's timeout: an idle poll is ended by the follower's own deadline, here 2 s.
  const { store, seen, errors } = await followed(t, ['zone/']);
  await new Promise((resolve) => setTimeout(resolve, 5000));
  await store.put({ _id: 'zone/after-idle.' });
  await waitFor(() => seen.some((c) => c.id === 'zone/after-idle.'), { what: 'the write after 5 s of nothing', timeoutMs: 5000 });
  t.same(errors, [], 'no failure was reported while the database was idle');
});
