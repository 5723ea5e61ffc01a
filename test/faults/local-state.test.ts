// Issue 13, item 1: a node restarted while its database is down still answers every geo name with a healthy edge,
// serves its sites and accepts the keys it knew, says it is serving from local state and how old that is; and when
// the database returns, every index is in sync again by itself (the asset server's /healthz 200 within 5 s).
// Three nodes meshed as the docs say (a joins b and c, b joins c), each on its own pouchdb-server.

import t from 'tap';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';
import { freePort } from '../helpers/ports.js';
import { apiTarget, deployTree } from '../pages/pages-helpers.js';
import { cluster, edgesFor, faultNode, geoZone, sleep, within, type FaultNode } from './fault-node.js';

const FAST = { 'probe-interval': '0.5', 'probe-timeout': '0.5', 'watchdog-interval': '0.5', 'replication-stall': '2', heartbeat: '2' };
const MAIL = rrsetDocId('geo.test.', 'mail.geo.test.', 'A');

const servers: PouchServer[] = [await startPouchServer({ inMemory: true }), await startPouchServer(), await startPouchServer({ inMemory: true })];
t.teardown(() => Promise.all(servers.map((s) => s.destroy())));
const [dbA, dbB, dbC] = servers;
const httpPorts = [await freePort(), await freePort(), await freePort()];
const edgeAddresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

const nodes: FaultNode[] = [];
for (const [i, db] of servers.entries()) {
  nodes.push(
    await faultNode({
      nodeId: `node-${'abc'[i]}`,
      couchdb: db.url,
      httpPort: httpPorts[i],
      flags: FAST,
      ...(i === 0 ? { zones: { 'geo.test.zone': geoZone('geo.test.') }, edges: edgesFor(httpPorts) } : {}),
    }),
  );
}
t.teardown(() => Promise.all(nodes.map((n) => n.destroy())));
const [nodeA, nodeB] = nodes;

await cluster(dbA.url, 'join', dbB.url);
await cluster(dbA.url, 'join', dbC.url);
await cluster(dbB.url, 'join', dbC.url);

const SITE = 'site.test';
const INDEX = '<!doctype html><link rel=stylesheet href=/app.1a2b3c4d.css><h1>v1</h1>';
let opsKey = '';

t.test('before the outage: node b answers the geo names, serves the site and knows the keys made on a', async (t) => {
  t.ok((await within(15_000, async () => edgeAddresses.includes((await nodeB.ask('www.geo.test.'))[0]))) >= 0, 'www.geo.test. answered by b');
  const keyA = await nodeA.key();
  const deployed = await deployTree(apiTarget(nodeA.apiPort, keyA), SITE, { '/index.html': INDEX, '/app.1a2b3c4d.css': 'h1 { color: teal }' });
  t.equal(deployed.result.status, 201, JSON.stringify(deployed.result.body));
  t.ok((await within(10_000, async () => (await nodeB.page(SITE, '/app.1a2b3c4d.css')).status === 200)) >= 0, 'b serves the site (and now holds its files)');
  t.equal((await nodeB.page(SITE, '/')).status, 200);
  const created = await nodeA.api('POST', '/v1/keys', { scope: 'admin', name: 'ops' });
  t.equal(created.status, 201);
  opsKey = created.body.secret;
  t.ok((await within(10_000, async () => (await nodeB.api('GET', '/v1/zones', undefined, opsKey)).status === 200)) >= 0, 'b accepts the key made on a');
  // Local state is written a moment after a change; give it that moment before pulling the plug.
  await sleep(1500);
});

t.test('node b restarted while its database is down answers from local state', async (t) => {
  await dbB.stop();
  await nodeB.stop();
  await nodeB.start();

  for (const name of ['www.geo.test.', 'geo.test.']) {
    const answer = await nodeB.ask(name);
    t.ok(edgeAddresses.includes(answer[0]), `${name} answered with an edge (${answer.join(' ')})`);
  }
  // The edge b answers with is one whose asset server says it is healthy.
  const healthy = await within(5000, async () => {
    const [address] = await nodeB.ask('www.geo.test.');
    const i = edgeAddresses.indexOf(address);
    return i >= 0 && (await nodes[i].pagesHealthz()).status === 200;
  });
  t.ok(healthy >= 0, 'www.geo.test. is answered with a healthy edge');

  const page = await nodeB.page(SITE, '/');
  t.equal(page.status, 200, 'the site is served');
  t.equal(page.body, INDEX);
  t.equal((await nodeB.page(SITE, '/app.1a2b3c4d.css')).status, 200, 'its files too (hot blobs kept on disk)');

  t.match(await nodeB.health(), /^stale \d+ local-state$/, 'CHAOS TXT health.edgedns. says local state and its age');
  const healthz = await nodeB.healthz();
  t.match(healthz.body, { status: 'degraded', data: { state: 'stale', source: 'snapshot', connected: false } });
  t.match(healthz.body.data.reasons.join('\n'), /local state/);
  for (const index of ['zones', 'geo', 'pages', 'keys']) {
    t.equal(await nodeB.metric(`edgedns_local_state_serving{index="${index}"}`), 1, `metric: ${index} from local state`);
  }
  t.ok(((await nodeB.metric('edgedns_store_last_sync_age_seconds')) ?? -1) >= 1, 'the age metric says how old it is');

  const zones = await nodeB.api('GET', '/v1/zones', undefined, opsKey);
  t.equal(zones.status, 200, 'a read served from memory, with a key known from local state');
  const write = await nodeB.api('PUT', '/v1/zones/geo.test./rrsets/mail/A', { ttl: 60, records: ['192.0.2.99'] }, opsKey);
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
  const healthzOk = await within(5000, async () => (await nodeB.pagesHealthz()).status === 200);
  t.ok(healthzOk >= 0, `the asset server's /healthz is 200 ${healthzOk} ms after the database returned`);
  const caughtUp = await within(10_000, async () => (await nodeB.ask('mail.geo.test.'))[0] === '198.51.100.7');
  t.ok(caughtUp >= 0, `a's write is answered by b ${Date.now() - back} ms after its database returned`);
  t.ok((await within(10_000, async () => (await nodeB.health()) === 'ok')) >= 0, 'health is ok again');
  for (const index of ['zones', 'geo', 'pages', 'keys']) t.equal(await nodeB.metric(`edgedns_local_state_serving{index="${index}"}`), 0, `${index} in sync`);

  // Each index follows the store again: a new site, edge and key made on a reach b.
  const keyA = await nodeA.key();
  await deployTree(apiTarget(nodeA.apiPort, keyA), 'other.test', { '/index.html': 'other' });
  t.ok((await within(10_000, async () => (await nodeB.page('other.test', '/')).status === 200)) >= 0, 'pages index follows');
  const edge = await nodeA.api('POST', '/v1/edges', { name: 'e9', ipv4: ['127.0.0.9'], check: { type: 'none' } });
  t.equal(edge.status, 201, JSON.stringify(edge.body));
  t.ok((await within(10_000, async () => (await nodeB.api('GET', '/v1/edges/e9', undefined, opsKey)).status === 200)) >= 0, 'geo index follows');
  const key = await nodeA.api('POST', '/v1/keys', { scope: 'admin', name: 'late' });
  t.ok((await within(10_000, async () => (await nodeB.api('GET', '/v1/zones', undefined, key.body.secret)).status === 200)) >= 0, 'key index follows');
});
