// IndexSync, the loop every index fed by the store shares (geo, pages, keys): local state first, then the store (a
// catch-up from the checkpoint, or a full read), then its changes feed; whenever the store is away it keeps what it
// holds, says so through its tracker and feedError, and tries again on its own, at most maxBackoffMs apart. Against a
// real pouchdb-server stopped and started again, and a server that drops every connection.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { CouchStore } from '../../src/store/couch-store.js';
import { IndexSync } from '../../src/store/index-sync.js';
import { LocalState, type LocalStateFile } from '../../src/store/local-state.js';
import { SyncTracker } from '../../src/store/store-health.js';
import type { Store } from '../../src/store/store.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

const logger = pino({ level: 'silent' });
const server = await startPouchServer();
t.teardown(() => server.destroy());

let serverDown = false;
/** Stops the server until storeBack() (or the end of the test). */
async function storeAway(t: TapTest): Promise<void> {
  await server.stop();
  serverDown = true;
  t.teardown(() => storeBack());
}
async function storeBack(): Promise<void> {
  if (!serverDown) return;
  await server.start();
  serverDown = false;
}

let databases = 0;
/** A store of its own for each test, on the shared server. */
function freshStore(t: TapTest, url = server.url): CouchStore {
  const store = new CouchStore({ url, prefix: `edgedns_sync${++databases}_`, longpollMs: 1000 });
  t.teardown(() => store.close());
  return store;
}

async function localFile(t: TapTest): Promise<LocalStateFile> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-index-sync-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return new LocalState({ dataDir: dir, logger, registry: new Registry(), intervalMs: 20 }).file('items');
}

interface TestIndex {
  sync: IndexSync;
  /** id → the document's `value`, as the index holds it. */
  items: Map<string, unknown>;
  calls: { applied: number; reset: number };
  tracker: SyncTracker;
}

/** An index of the documents under item/: what geo, pages and keys keep, reduced to a map. */
function testIndex(t: TapTest, store: Store, options: { local?: LocalStateFile; maxBackoffMs?: number } = {}): TestIndex {
  const items = new Map<string, unknown>();
  const calls = { applied: 0, reset: 0 };
  const tracker = new SyncTracker('items', Date.now);
  const sync = new IndexSync({
    name: 'items',
    store,
    prefixes: ['item/'],
    logger,
    local: options.local,
    tracker,
    maxBackoffMs: options.maxBackoffMs,
    apply: (doc) => items.set(doc._id, doc.value),
    remove: (id) => items.delete(id),
    reset: () => {
      calls.reset++;
      items.clear();
    },
    applied: () => calls.applied++,
  });
  t.teardown(() => sync.stop());
  return { sync, items, calls, tracker };
}

function holds(index: TestIndex, expected: Record<string, unknown>): boolean {
  return JSON.stringify(Object.fromEntries([...index.items].sort())) === JSON.stringify(expected);
}

t.test('a full read, then the changes feed; documents outside its prefixes are left out', async (t) => {
  const store = freshStore(t);
  await store.bulk([
    { _id: 'item/a', value: 1 },
    { _id: 'other/z', value: 9 },
  ]);
  const index = testIndex(t, store);
  await index.sync.start();
  t.strictSame(Object.fromEntries(index.items), { 'item/a': 1 }, 'read from the store at start');
  t.ok(index.sync.loaded, 'loaded');
  t.equal(index.sync.feedError, undefined, 'no feed error');
  t.ok(index.tracker.connected, 'the tracker says in sync');
  t.equal(index.tracker.source, 'store');
  t.ok(index.calls.applied >= 1, 'applied after the read');

  const a = await store.get('item/a');
  await store.bulk([{ _id: 'item/b', value: 2 }, { ...a!, _deleted: true }, { _id: 'other/y', value: 8 }]);
  await waitFor(() => holds(index, { 'item/b': 2 }), { what: 'item/b added and item/a removed by the feed', timeoutMs: 5000 });
});

t.test('changes arriving together are applied together', async (t) => {
  const store = freshStore(t);
  const index = testIndex(t, store);
  await index.sync.start();
  const before = index.calls.applied;
  await store.bulk(Array.from({ length: 50 }, (_, i) => ({ _id: `item/${String(i).padStart(2, '0')}`, value: i })));
  await waitFor(() => index.items.size === 50, { what: 'the 50 documents in the index', timeoutMs: 5000 });
  await waitFor(() => index.calls.applied > before, { what: 'applied() after the batch', timeoutMs: 1000 });
  const batches = index.calls.applied - before;
  t.ok(batches <= 10, `50 changes applied in ${batches} batches`);
});

t.test('a feed lost while in sync: it keeps its data, says so, and follows again when the store returns', async (t) => {
  const store = freshStore(t);
  await store.put({ _id: 'item/x', value: 'x' });
  const index = testIndex(t, store);
  await index.sync.start();
  t.ok(index.tracker.connected);

  await storeAway(t);
  await waitFor(() => !index.tracker.connected, { what: 'the tracker to say the feed is lost', timeoutMs: 5000 });
  t.type(index.sync.feedError, 'string', `feedError says why: ${index.sync.feedError}`);
  t.strictSame(Object.fromEntries(index.items), { 'item/x': 'x' }, 'the index still serves what it had');
  t.ok(index.sync.loaded, 'still loaded');

  await storeBack();
  await store.put({ _id: 'item/y', value: 'y' });
  const back = await waitFor(() => index.tracker.connected && holds(index, { 'item/x': 'x', 'item/y': 'y' }), {
    what: 'in sync again, with the write made after the store returned',
    timeoutMs: 10_000,
  });
  t.equal(index.sync.feedError, undefined, 'feedError cleared');
  t.pass(`in sync again ${back.ms} ms after the store returned`);
});

t.test('started with the store away and no local state: not loaded, and loaded by itself once the store answers', async (t) => {
  const store = freshStore(t);
  await store.put({ _id: 'item/a', value: 1 });
  await storeAway(t);

  const index = testIndex(t, store);
  await index.sync.start();
  t.notOk(index.sync.loaded, 'not loaded: nothing was read');
  t.type(index.sync.feedError, 'string', 'feedError says the store is away');
  t.notOk(index.tracker.connected);

  await storeBack();
  await waitFor(() => index.sync.loaded && index.tracker.connected, { what: 'loaded once the store answers', timeoutMs: 10_000 });
  t.strictSame(Object.fromEntries(index.items), { 'item/a': 1 });
  t.equal(index.sync.feedError, undefined);
});

t.test('started with the store away: it serves local state, says so, and catches up from its checkpoint', async (t) => {
  const store = freshStore(t);
  const local = await localFile(t);
  await store.bulk([
    { _id: 'item/a', value: 1 },
    { _id: 'item/b', value: 2 },
  ]);
  const first = testIndex(t, store, { local });
  await first.sync.start();
  await store.put({ _id: 'item/c', value: 3 });
  await waitFor(() => first.items.has('item/c'), { what: 'item/c by the feed', timeoutMs: 5000 });
  // Local state is written after each batch; stop() writes what is pending.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await first.sync.stop();

  // Made while the index is stopped: only a catch-up from the checkpoint (or a full read) brings them.
  await store.put({ _id: 'item/d', value: 4 });
  const a = await store.get('item/a');
  await store.remove('item/a', a!._rev!);
  await storeAway(t);

  const second = testIndex(t, store, { local });
  await second.sync.start();
  t.strictSame(Object.fromEntries(second.items), { 'item/a': 1, 'item/b': 2, 'item/c': 3 }, 'serving local state');
  t.ok(second.sync.loaded, 'loaded from local state');
  t.type(second.sync.feedError, 'string', 'feedError says the store is away');
  t.ok(second.tracker.fromLocalState, 'the tracker says: from local state');
  t.ok(second.calls.applied >= 1, 'applied after restoring local state');

  await storeBack();
  await waitFor(() => second.tracker.connected && holds(second, { 'item/b': 2, 'item/c': 3, 'item/d': 4 }), {
    what: 'the changes made meanwhile, once the store answers',
    timeoutMs: 10_000,
  });
  t.equal(second.sync.feedError, undefined);
  t.equal(second.tracker.source, 'store');
  t.equal(second.calls.reset, 1, 'caught up from the checkpoint: reset only to restore local state, no full read');
});

t.test('local state from another store is replaced by a full read', async (t) => {
  const store = freshStore(t);
  const local = await localFile(t);
  local.schedule(() => ({
    checkpoint: { seq: '12345', storeId: 'couchdb:http://elsewhere:5984/edgedns_data', syncedAt: new Date().toISOString() },
    docs: [
      { _id: 'item/old', value: 'from elsewhere' },
      { _id: 'item/a', value: 'stale' },
    ],
  }));
  await local.flush();
  await store.put({ _id: 'item/a', value: 'current' });

  const index = testIndex(t, store, { local });
  await index.sync.start();
  t.strictSame(Object.fromEntries(index.items), { 'item/a': 'current' }, 'only what the store holds');
  t.equal(index.calls.reset, 2, 'reset to restore local state, then for the full read');
  t.ok(index.tracker.connected);
});

/** A "database" that accepts every connection and drops it at once, counting when each came. */
async function droppingServer(t: TapTest): Promise<{ url: string; connections: number[] }> {
  const connections: number[] = [];
  const net = createServer((socket) => {
    connections.push(Date.now());
    socket.destroy();
  });
  await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => net.close(() => resolve())));
  const address = net.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}/`, connections };
}

t.test('while the store is away it tries again at most maxBackoffMs apart', async (t) => {
  const dropping = await droppingServer(t);
  const store = freshStore(t, dropping.url);
  const index = testIndex(t, store, { maxBackoffMs: 250 });
  await index.sync.start();
  t.type(index.sync.feedError, 'string');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await index.sync.stop();
  const times = dropping.connections;
  const gaps = times.slice(1).map((at, i) => at - times[i]);
  // Doubling without a cap would give 250, 500, 1000 ms: 4 attempts in 2 s.
  t.ok(times.length >= 6, `${times.length} attempts in 2 s`);
  t.ok(Math.max(...gaps) < 600, `gaps between attempts: ${gaps.join(', ')} ms`);
});

t.test('stopped while the store is away, it tries no more', async (t) => {
  const dropping = await droppingServer(t);
  const store = freshStore(t, dropping.url);
  const index = testIndex(t, store, { maxBackoffMs: 250 });
  await index.sync.start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  await index.sync.stop();
  const attempts = dropping.connections.length;
  t.ok(attempts >= 1, `${attempts} attempts before stop()`);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.equal(dropping.connections.length, attempts, 'no attempt after stop()');
});

t.test('stopped while its first read hangs, start() returns', async (t) => {
  // A "database" that accepts connections and never answers.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const address = silent.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  const store = freshStore(t, `http://127.0.0.1:${address.port}/`);
  const index = testIndex(t, store);
  let returned = false;
  const starting = index.sync.start().then(() => (returned = true));
  await waitFor(() => sockets.size > 0, { what: 'the first read under way', timeoutMs: 5000 });
  t.notOk(returned, 'start() waits for its first read');
  await index.sync.stop();
  await waitFor(() => returned, { what: 'start() to return after stop()', timeoutMs: 1000 });
  await starting;
  t.notOk(index.sync.loaded, 'nothing loaded');
});
