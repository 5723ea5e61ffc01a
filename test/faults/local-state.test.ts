// Issue 13, item 1: a node restarted while its database is down still answers every geo name with a healthy edge,
// serves its sites and accepts the keys it knew, says it is serving from local state and how old that is; and when
// the database returns, every index is in sync again by itself (the asset server's /healthz 200 within 5 s).
// Three nodes meshed as the docs say (a joins b and c, b joins c), each on its own pouchdb-server.

import t from 'tap';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { deployTree } from '../pages/pages-helpers.js';
import { ask, cluster, edgesFor, geoZone, health, healthz, page, pagesHealthz, sleep } from './fault-helpers.js';

const FAST = { 'probe-interval': '0.5', 'probe-timeout': '0.5', 'watchdog-interval': '0.5', 'replication-stall': '2', heartbeat: '2' };
const MAIL = rrsetDocId('geo.test.', 'mail.geo.test.', 'A');

const servers: PouchServer[] = [await startPouchServer({ inMemory: true }), await startPouchServer(), await startPouchServer({ inMemory: true })];
t.teardown(() => Promise.all(servers.map((s) => s.destroy())));
const [dbA, dbB, dbC] = servers;
const httpPorts = [await freePort(), await freePort(), await freePort()];
const edgeAddresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

const nodes: TestNode[] = [];
for (const [i, db] of servers.entries()) {
  nodes.push(
    await startTestNode({
      nodeId: `node-${'abc'[i]}`,
      httpPort: httpPorts[i],
      flags: { couchdb: db.url, geoip: 'none', ...FAST },
      ...(i === 0 ? { zoneTexts: { 'geo.test.zone': geoZone('geo.test.'), 'edges.json': edgesFor(httpPorts) } } : {}),
    }),
  );
}
t.teardown(() => Promise.all(nodes.map((n) => n.close())));
const [nodeA, nodeB] = nodes;

await cluster(dbA.url, 'join', dbB.url);
await cluster(dbA.url, 'join', dbC.url);
await cluster(dbB.url, 'join', dbC.url);

const SITE = 'site.test';
const INDEX = '<!doctype html><link rel=stylesheet href=/app.1a2b3c4d.css><h1>v1</h1>';
let opsKey = '';

t.test('before the outage: node b answers the geo names, serves the site and knows the keys made on a', async (t) => {
  await waitFor(async () => edgeAddresses.includes((await ask(nodeB, 'www.geo.test.'))[0]), { what: 'www.geo.test. answered by b with an edge', timeoutMs: 15_000 });
  const deployed = await deployTree(nodeA, SITE, { '/index.html': INDEX, '/app.1a2b3c4d.css': 'h1 { color: teal }' });
  t.equal(deployed.result.status, 201, JSON.stringify(deployed.result.body));
  await waitFor(async () => (await page(nodeB, SITE, '/app.1a2b3c4d.css')).status === 200, { what: 'b to serve the site (and so hold its files)', timeoutMs: 10_000 });
  t.equal((await page(nodeB, SITE, '/')).status, 200);
  const created = await nodeA.api('POST', '/v1/keys', { body: { scope: 'admin', name: 'ops' } });
  t.equal(created.status, 201);
  opsKey = created.body.secret;
  await waitFor(async () => (await nodeB.api('GET', '/v1/zones', { key: opsKey })).status === 200, { what: 'b to accept the key made on a', timeoutMs: 10_000 });
  // Local state is written a moment after a change; give it that moment before pulling the plug.
  await sleep(1500);
});

t.test('node b restarted while its database is down answers from local state', async (t) => {
  await dbB.stop();
  await nodeB.restart();

  for (const name of ['www.geo.test.', 'geo.test.']) {
    const answer = await ask(nodeB, name);
    t.ok(edgeAddresses.includes(answer[0]), `${name} answered with an edge (${answer.join(' ')})`);
  }
  // The edge b answers with is one whose asset server says it is healthy.
  const healthy = await waitFor(
    async () => {
      const [address] = await ask(nodeB, 'www.geo.test.');
      const i = edgeAddresses.indexOf(address);
      return i >= 0 && (await pagesHealthz(nodes[i])).status === 200;
    },
    { what: 'www.geo.test. answered with an edge whose /healthz is 200', timeoutMs: 5000 },
  );
  t.ok(healthy.value, 'www.geo.test. is answered with a healthy edge');

  const index = await page(nodeB, SITE, '/');
  t.equal(index.status, 200, 'the site is served');
  t.equal(index.body, INDEX);
  t.equal((await page(nodeB, SITE, '/app.1a2b3c4d.css')).status, 200, 'its files too (hot blobs kept on disk)');

  t.match(await health(nodeB), /^stale \d+ local-state$/, 'CHAOS TXT health.edgedns. says local state and its age');
  const status = await healthz(nodeB);
  t.match(status.body, { status: 'degraded', data: { state: 'stale', source: 'snapshot', connected: false } });
  t.match(status.body.data.reasons.join('\n'), /local state/);
  for (const index of ['zones', 'geo', 'pages', 'keys']) {
    t.equal(await nodeB.metric(`edgedns_local_state_serving{index="${index}"}`), 1, `metric: ${index} from local state`);
  }
  // Local state is rewritten after every change it follows (health documents included), so right after the restart
  // its age may still be under a second (the metric counts whole seconds); it grows while the store stays away.
  const aged = await waitFor(async () => ((await nodeB.metric('edgedns_store_last_sync_age_seconds')) ?? -1) >= 1, { what: 'the age metric to reach 1 s', timeoutMs: 5000 });
  t.ok(aged.value, 'the age metric says how old it is');

  const zones = await nodeB.api('GET', '/v1/zones', { key: opsKey });
  t.equal(zones.status, 200, 'a read served from memory, with a key known from local state');
  const write = await nodeB.api('PUT', '/v1/zones/geo.test./rrsets/mail/A', { body: { ttl: 60, records: ['192.0.2.99'] }, key: opsKey });
  t.equal(write.status, 503, 'a write gets 503');
  t.equal(write.body?.error?.code, 'store_unavailable');
  t.ok(Number(write.headers.get('retry-after')) > 0, 'with Retry-After');
});

t.test('when its database returns, every index of node b recovers by itself', async (t) => {
  // A write made on a while b was away.
  const doc = await nodeA.node.store.get(MAIL);
  await nodeA.node.store.put({ ...doc!, records: ['198.51.100.7'] });
  const back = Date.now();
  await dbB.start();
  const pagesOk = await waitFor(async () => (await pagesHealthz(nodeB)).status === 200, { what: "b's asset server /healthz to be 200", timeoutMs: 5000 });
  t.ok(pagesOk.value, `the asset server's /healthz is 200 ${pagesOk.ms} ms after the database returned`);
  await waitFor(async () => (await ask(nodeB, 'mail.geo.test.'))[0] === '198.51.100.7', { what: "a's write answered by b", timeoutMs: 10_000 });
  t.comment(`a's write is answered by b ${Date.now() - back} ms after its database returned`);
  t.ok((await waitFor(async () => (await health(nodeB)) === 'ok', { what: "b's health to be ok", timeoutMs: 10_000 })).value, 'health is ok again');
  for (const index of ['zones', 'geo', 'pages', 'keys']) t.equal(await nodeB.metric(`edgedns_local_state_serving{index="${index}"}`), 0, `${index} in sync`);

  // Each index follows the store again: a new site, edge and key made on a reach b.
  await deployTree(nodeA, 'other.test', { '/index.html': 'other' });
  t.ok((await waitFor(async () => (await page(nodeB, 'other.test', '/')).status === 200, { what: 'the new site on b', timeoutMs: 10_000 })).value, 'pages index follows');
  const edge = await nodeA.api('POST', '/v1/edges', { body: { name: 'e9', ipv4: ['127.0.0.9'], check: { type: 'none' } } });
  t.equal(edge.status, 201, JSON.stringify(edge.body));
  t.ok((await waitFor(async () => (await nodeB.api('GET', '/v1/edges/e9', { key: opsKey })).status === 200, { what: 'the new edge on b', timeoutMs: 10_000 })).value, 'geo index follows');
  const key = await nodeA.api('POST', '/v1/keys', { body: { scope: 'admin', name: 'late' } });
  t.ok((await waitFor(async () => (await nodeB.api('GET', '/v1/zones', { key: key.body.secret })).status === 200, { what: 'the new key accepted by b', timeoutMs: 10_000 })).value, 'key index follows');
});
