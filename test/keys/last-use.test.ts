// A key's last use is recorded in its document, which every node replicates: each such write is carried by every
// replication of the mesh (on seven pouchdb-servers, 1–2 CPU-seconds), and the first use of a key after the interval
// made the write that used it wait behind that storm (bench/mesh-latency.ts: the first PUT on each node was the
// slowest). So it is written at most once an hour per key: enough to tell a key in use from one forgotten.

import t from 'tap';
import { hashKey, keyVerdict, type KeyDoc } from '../../src/keys/api-keys.js';
import type { Store, StoredDoc } from '../../src/store/store.js';
import { tempPouchStore } from '../helpers/temp-store.js';

const pouch = await tempPouchStore(t, 'last-use');

/** The store, keeping each document put. */
const puts: StoredDoc[] = [];
const store: Store = Object.assign(Object.create(pouch) as Store, {
  put: (doc: StoredDoc) => {
    puts.push(doc);
    return pouch.put(doc);
  },
});

const HOUR = 3_600_000;
const t0 = Date.parse('2026-01-01T00:00:00Z');
await pouch.put({ _id: 'key/ci', type: 'key', name: 'ci', scope: 'admin', hash: hashKey('edg_secret'), createdAt: new Date(t0 - HOUR).toISOString() });
const current = async (): Promise<KeyDoc> => (await pouch.get('key/ci')) as KeyDoc;

t.test('the first use is recorded', async (t) => {
  t.ok('principal' in keyVerdict(store, await current(), t0), 'the key works');
  t.equal(puts.length, 1, 'its document is written');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal((await current()).lastUsedAt, new Date(t0).toISOString(), 'with the time of the use');
});

t.test('uses within the hour write nothing; the first one after it is recorded', async (t) => {
  for (const minutes of [1, 2, 30, 59]) {
    t.ok('principal' in keyVerdict(store, await current(), t0 + minutes * 60_000), `${minutes} min later: the key works`);
  }
  t.equal(puts.length, 1, 'no write for uses within the hour');
  keyVerdict(store, await current(), t0 + HOUR + 60_000);
  t.equal(puts.length, 2, 'the first use after the hour is written');
  t.equal(puts[1].lastUsedAt, new Date(t0 + HOUR + 60_000).toISOString());
});
