// Issue 13, item 6: store failures are loud and recoverable. A damaged embedded store is refused at start with a
// message naming the file (and nothing is deleted); while the database is down, API writes get 503 with Retry-After
// and reads from memory still work; an edge replica's health follows its upstream; a changes feed cut short by a
// server that is going away is reported as an unreachable database, not a TypeError.

import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import t from 'tap';
import { CouchStore } from '../../src/store/couch-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { startTestNode } from '../helpers/node.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { ask, health, healthz } from './fault-helpers.js';

const ZONE = ['$ORIGIN example.org.', '$TTL 60', '@ IN SOA ns1 hostmaster 1 7200 1800 1209600 300', '  IN NS ns1', 'ns1 IN A 192.0.2.53', 'mail IN A 192.0.2.25', ''].join('\n');

t.test('an embedded store whose db/CURRENT is missing is refused at start, and its files are left alone', async (t) => {
  const node = await startTestNode({ nodeId: 'damaged', zoneTexts: { 'example.org.zone': ZONE } });
  t.teardown(() => node.close());
  t.same(await ask(node, 'mail.example.org.'), ['192.0.2.25']);
  await node.stop();
  const db = path.join(node.dataDir, 'db');
  await rm(path.join(db, 'CURRENT'));
  const before = (await readdir(db)).filter((f) => /\.(ldb|log)$|^MANIFEST/.test(f)).sort();
  t.ok(before.length > 0, `data files there: ${before.join(' ')}`);
  await t.rejects(node.restart(), /CURRENT/, 'start fails, naming the missing file');
  await t.rejects(node.restart(), /backup|restore/i, 'and saying what to do');
  t.notOk(existsSync(path.join(db, 'CURRENT')), 'no new empty store was made in its place');
  const after = (await readdir(db)).filter((f) => /\.(ldb|log)$|^MANIFEST/.test(f)).sort();
  t.same(after, before, 'the data files are still there');
});

t.test('with its CouchDB down: API writes get 503 with Retry-After, reads from memory 200, health says so', async (t) => {
  const db = await startPouchServer({ inMemory: true });
  t.teardown(() => db.destroy());
  const node = await startTestNode({ nodeId: 'outage', flags: { couchdb: db.url, 'db-prefix': 'edgedns_api_' }, zoneTexts: { 'example.org.zone': ZONE } });
  t.teardown(() => node.close());
  t.equal((await node.api('GET', '/v1/zones')).status, 200);
  await db.stop();
  const write = await node.api('PUT', '/v1/zones/example.org./rrsets/mail/A', { body: { ttl: 60, records: ['192.0.2.99'] } });
  t.equal(write.status, 503, JSON.stringify(write.body));
  t.match(write.body, { error: { code: 'store_unavailable', message: /store|database/i } });
  t.ok(Number(write.headers.get('retry-after')) > 0, 'Retry-After is set');
  const pdns = await node.api('PATCH', '/api/v1/servers/localhost/zones/example.org.', { body: { rrsets: [{ name: 'mail.example.org.', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '192.0.2.98', disabled: false }] }] } });
  t.equal(pdns.status, 503, `the PowerDNS API too: ${JSON.stringify(pdns.body)}`);
  t.match(pdns.body, { error: /store/, code: 'store_unavailable' });
  t.ok(Number(pdns.headers.get('retry-after')) > 0, 'with Retry-After');
  const read = await node.api('GET', '/v1/zones');
  t.equal(read.status, 200, 'the zone list comes from memory');
  t.match(read.body, { zones: [{ name: 'example.org.' }] });
  t.equal((await node.api('GET', '/v1/zones/example.org./rrsets')).status, 200, 'the RRsets too');
  t.equal((await node.api('GET', '/api/v1/servers/localhost/zones/example.org.')).status, 200, 'and the zone through the PowerDNS API');
  t.same(await ask(node, 'mail.example.org.'), ['192.0.2.25'], 'DNS answers');
});

t.test("a --replicate-from replica's health follows its upstream", async (t) => {
  const db = await startPouchServer();
  t.teardown(() => db.destroy());
  const origin = await startTestNode({ nodeId: 'origin', flags: { couchdb: db.url }, zoneTexts: { 'example.org.zone': ZONE } });
  t.teardown(() => origin.close());
  const replica = await startTestNode({ nodeId: 'replica', flags: { 'replicate-from': db.url } });
  t.teardown(() => replica.close());
  await waitFor(async () => (await ask(replica, 'mail.example.org.'))[0] === '192.0.2.25', { what: 'the replica to serve the zone', timeoutMs: 10_000 });
  t.ok((await waitFor(async () => (await health(replica)) === 'ok', { what: 'replica health ok', timeoutMs: 5000 })).value, 'health ok while the upstream answers');
  await db.stop();
  const stale = await waitFor(async () => /^stale \d+/.test(await health(replica)), { what: 'replica health to say stale', timeoutMs: 10_000 });
  t.ok(stale.value, `health says stale ${stale.ms} ms after the upstream went away`);
  t.match((await healthz(replica)).body, { status: 'degraded', data: { state: 'stale' } });
  t.match((await healthz(replica)).body.data.reasons.join('\n'), /upstream/);
  await db.start();
  t.ok((await waitFor(async () => (await health(replica)) === 'ok', { what: 'replica health ok again', timeoutMs: 15_000 })).value, 'ok again once the upstream is back');
});

/** A server that speaks enough CouchDB for a store to start following, then answers the feed the given way. */
async function dyingCouch(answerFeed: (res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.includes('/_changes')) return answerFeed(res);
    if (req.method === 'PUT' && !url.includes('_design')) return json(412, { error: 'file_exists', reason: 'The database could not be created, the file already exists.' });
    if (url.includes('_design')) return json(req.method === 'GET' ? 200 : 201, req.method === 'GET' ? { _id: '_design/edgedns', _rev: '1-a', language: 'javascript', views: { conflicts: { map: 'function (doc) { if (doc._conflicts) { emit(doc._id, doc._conflicts); } }' } } } : { ok: true });
    return json(200, { db_name: 'edgedns_data', update_seq: '1' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

for (const [what, answerFeed] of [
  ['an empty 200 body', (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end()],
  ['a body cut short', (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[')],
  ['a reset connection', (res: ServerResponse) => res.socket?.destroy()],
] as const) {
  t.test(`a changes feed ended by ${what} is reported as an unreachable database`, async (t) => {
    const couch = await dyingCouch(answerFeed);
    t.teardown(() => couch.close());
    const store = new CouchStore({ url: couch.url, prefix: 'edgedns_' });
    t.teardown(() => store.close());
    const err = await new Promise<Error>((resolve) => {
      store.follow({ since: '0', onChange: () => undefined, onError: resolve });
    });
    t.ok(err instanceof StoreUnavailableError, `${err.name}: ${err.message}`);
    t.notMatch(err.message, /TypeError|not iterable/);
    t.match(err.message, /CouchDB/);
  });
}
