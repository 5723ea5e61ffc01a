// Issue 13, item 8: a mesh with nothing changing costs close to nothing. Three nodes meshed, a pool of edges that
// stay up, probes every 0.3 s: once settled, no node writes anything (health documents are written when something
// changes, or at the slow default heartbeat). Writes are counted as every database's update sequence moves.

import t from 'tap';
import { CouchStore } from '../../src/store/couch-store.js';
import { HealthServer } from '../geo/geo-helpers.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { cluster, geoZone, sleep } from './fault-helpers.js';

const servers: PouchServer[] = [await startPouchServer({ inMemory: true }), await startPouchServer({ inMemory: true }), await startPouchServer({ inMemory: true })];
t.teardown(() => Promise.all(servers.map((s) => s.destroy())));
const healthServers = [await HealthServer.start(), await HealthServer.start()];
t.teardown(() => Promise.all(healthServers.map((h) => h.down())));
const edges = {
  edges: healthServers.map((h, i) => ({ name: `e${i + 1}`, ipv4: [`127.0.0.${i + 1}`], latitude: 50, longitude: 5 + i, check: { type: 'http', url: h.url } })),
  pools: [{ name: 'web', members: ['e1', 'e2'], count: 1 }],
};
const nodes: TestNode[] = [];
for (const [i, db] of servers.entries()) {
  nodes.push(
    await startTestNode({
      nodeId: `idle-${i + 1}`,
      flags: { couchdb: db.url, geoip: 'none', 'probe-interval': '0.3', 'probe-timeout': '0.5', 'watchdog-interval': '0.5' },
      ...(i === 0 ? { zoneTexts: { 'geo.test.zone': geoZone('geo.test.'), 'edges.json': JSON.stringify(edges) } } : {}),
    }),
  );
}
t.teardown(() => Promise.all(nodes.map((n) => n.close())));
await cluster(servers[0].url, 'join', servers[1].url);
await cluster(servers[0].url, 'join', servers[2].url);
await cluster(servers[1].url, 'join', servers[2].url);

const stores = servers.map((s) => new CouchStore({ url: s.url, prefix: 'edgedns_' }));
t.teardown(() => Promise.all(stores.map((s) => s.close())));

/** Writes on all three databases (each replicated write counts once per database it lands in). */
async function writesDuring(ms: number): Promise<number> {
  // A test may read the number in front of a sequence (pouchdb-server: the whole of it; CouchDB: "N-…").
  const count = async (): Promise<number[]> => Promise.all(stores.map(async (s) => Number((await s.updateSeq()).split('-')[0])));
  const before = await count();
  await sleep(ms);
  const after = await count();
  return after.reduce((sum, n, i) => sum + n - before[i], 0);
}

t.test('an idle mesh writes nothing', async (t) => {
  // Settle: the zone and edges replicate, every node probes and writes its first observations, replications catch up.
  await sleep(6000);
  const since = await stores[0].updateSeq();
  const writes = await writesDuring(5000);
  const written = (await stores[0].changes(since)).results.map((c) => c.id);
  t.ok(writes <= 1, `${writes} writes in 5 s across three databases (${(writes * 12).toFixed(0)} a minute): ${written.join(' ')}`);
  for (const h of healthServers) t.ok(h.hits > 10, 'while the edges are probed all along');
});
