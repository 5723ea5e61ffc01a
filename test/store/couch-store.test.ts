// The shared Store contract against CouchStore on a real CouchDB-protocol server: pouchdb-server on loopback, or
// the CouchDB at EDGEDNS_TEST_COUCHDB=URL when set (so the same suite checks Apache CouchDB 3).

import t from 'tap';
import { CouchStore, DESIGN_ID } from '../../src/store/couch-store.js';
import { couchServer } from '../../src/store/couch-http.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { storeContract } from './contract.js';

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
