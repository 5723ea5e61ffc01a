// Issue 13, item 2: replication that heals itself and is seen. Three nodes meshed as the docs say (a joins b and c,
// b joins c: c holds no replication of its own; a and b reach c's database through a proxy the test can cut).
// c's database goes away and comes back: the watchdogs of a and b restart their links with c at once instead of
// waiting out the replicator's back-off, c's changes reach a and b and theirs reach c within 10 s, the metrics show
// the stall and the recovery, c says stale until it has what was written meanwhile. c cut off from its peers while
// its own database is fine: it says stale, though it cannot see the links, and catches up once healed. And
// `cluster status` on c shows the links a and b hold towards it.

import t from 'tap';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';
import { cluster, faultNode, sleep, tcpProxy, within, type FaultNode } from './fault-node.js';

const FAST = { 'watchdog-interval': '0.5', 'replication-stall': '2', heartbeat: '2' };
const ZONE = ['$ORIGIN example.org.', '$TTL 60', '@ IN SOA ns1 hostmaster 1 7200 1800 1209600 300', '  IN NS ns1', 'ns1 IN A 192.0.2.53', 'mail IN A 192.0.2.25', 'www IN A 192.0.2.80', ''].join('\n');
const MAIL = rrsetDocId('example.org.', 'mail.example.org.', 'A');
const WWW = rrsetDocId('example.org.', 'www.example.org.', 'A');

const servers: PouchServer[] = [await startPouchServer({ inMemory: true }), await startPouchServer({ inMemory: true }), await startPouchServer()];
t.teardown(() => Promise.all(servers.map((s) => s.destroy())));
const [dbA, dbB, dbC] = servers;
const proxyC = await tcpProxy(dbC.port);
t.teardown(() => proxyC.close());
const nodes: FaultNode[] = [];
for (const [i, db] of servers.entries()) {
  nodes.push(await faultNode({ nodeId: `node-${'abc'[i]}`, couchdb: db.url, flags: FAST, ...(i === 0 ? { zones: { 'example.org.zone': ZONE } } : {}) }));
}
t.teardown(() => Promise.all(nodes.map((n) => n.destroy())));
const [nodeA, nodeB, nodeC] = nodes;
await cluster(dbA.url, 'join', dbB.url);
await cluster(dbA.url, 'join', proxyC.url);
await cluster(dbB.url, 'join', proxyC.url);

async function set(node: FaultNode, id: string, address: string): Promise<void> {
  const doc = await node.node.store.get(id);
  if (!doc) throw new Error(`${id} missing on ${node.nodeId}`);
  await node.node.store.put({ ...doc, records: [address] });
}

/** Sum of a metric's series whose labels match every given pattern. */
async function sum(node: FaultNode, name: string, ...labels: RegExp[]): Promise<number | undefined> {
  const text = await node.metrics();
  let total: number | undefined;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    if (labels.every((l) => l.test(m[1]))) total = (total ?? 0) + Number(m[2]);
  }
  return total;
}
const peerC = new RegExp(`peer="${proxyC.url.replace(/[./]/g, (c) => `\\${c}`)}"`);

t.test('every node exports the state of the replications it holds', async (t) => {
  t.ok((await within(15_000, async () => (await nodeC.ask('mail.example.org.'))[0] === '192.0.2.25')) >= 0, 'the zone reached c');
  // Caught up or moving: the nodes' own health documents keep the links a little busy.
  t.ok((await within(15_000, async () => (await sum(nodeA, 'edgedns_replication_state', /state="(caught-up|behind)"/)) === 4)) >= 0, 'a: every link delivers');
  const text = await nodeA.metrics();
  t.equal([...text.matchAll(/^edgedns_replication_pending_changes\{/gm)].length, 4, 'a holds four links (push and pull with b and c)');
  t.match(text, /^edgedns_replication_last_progress_seconds\{/m);
  t.match(text, /^# TYPE edgedns_replication_restarts_total counter$/m);
  t.equal(await nodeC.health(), 'ok');
});

t.test("c's database down, then back: changes flow both ways within 10 s and the metrics show the stall and the recovery", async (t) => {
  const restartsBefore = (await sum(nodeA, 'edgedns_replication_restarts_total', peerC)) ?? 0;
  await dbC.stop();
  await set(nodeA, MAIL, '198.51.100.1');
  const stalled = await within(10_000, async () => ((await sum(nodeA, 'edgedns_replication_last_progress_seconds', peerC, /direction="push"/)) ?? 0) >= 3);
  t.ok(stalled >= 0, "a's push to c shows no progress while c is away");
  t.ok(((await sum(nodeA, 'edgedns_replication_pending_changes', peerC, /direction="push"/)) ?? 0) >= 1 || /unreachable/.test(await nodeA.metrics()), 'and what it waits on');
  t.match(await cluster(dbA.url, 'status'), /unreachable/, 'cluster status on a says c is unreachable');
  await sleep(3000);

  await dbC.start();
  const back = Date.now();
  await set(nodeC, WWW, '198.51.100.3');
  let sawStale = false;
  let okBeforeData = 0;
  const caughtUp = await within(10_000, async () => {
    const health = await nodeC.health();
    const mail = (await nodeC.ask('mail.example.org.'))[0];
    if (health !== 'ok') sawStale = true;
    else if (mail !== '198.51.100.1') okBeforeData++;
    return mail === '198.51.100.1';
  });
  t.ok(caughtUp >= 0, `a's write made meanwhile is answered by c ${Date.now() - back} ms after its database returned`);
  t.ok(sawStale, 'c said stale while it lacked it');
  t.equal(okBeforeData, 0, 'c never said ok while it still answered old data');
  for (const node of [nodeA, nodeB]) {
    const took = await within(10_000 - (Date.now() - back), async () => (await node.ask('www.example.org.'))[0] === '198.51.100.3');
    t.ok(took >= 0, `c's write is answered by ${node.nodeId} ${Date.now() - back} ms after c's database returned`);
  }
  t.ok(((await sum(nodeA, 'edgedns_replication_restarts_total', peerC)) ?? 0) > restartsBefore, "a's watchdog restarted its links with c");
  t.ok((await within(5000, async () => (await sum(nodeA, 'edgedns_replication_pending_changes', peerC)) === 0)) >= 0, 'nothing pending any more');
  t.ok(((await sum(nodeA, 'edgedns_replication_last_progress_seconds', peerC)) ?? 99) < 2, 'and progress is recent');
  t.ok((await within(5000, async () => (await nodeC.health()) === 'ok')) >= 0, 'c says ok');
});

t.test('c cut off from its peers, its own database fine: it says stale, and catches up once healed', async (t) => {
  t.equal(await nodeC.health(), 'ok', 'ok before');
  await proxyC.cut();
  await set(nodeA, MAIL, '198.51.100.11');
  const reasons = async (): Promise<string> => ((await nodeC.healthz()).body.data?.reasons ?? []).join('\n');
  const stale = await within(15_000, async () => /no news from node-[ab]/.test(await reasons()));
  t.ok(stale >= 0, `c says it is not receiving ${stale} ms after it was cut off: ${await reasons()}`);
  t.match(await nodeC.health(), /^stale \d+ not-receiving$/);
  t.match(await nodeC.metrics(), /^edgedns_replication_receiving 0$/m);
  t.same(await nodeC.ask('mail.example.org.'), ['198.51.100.1'], 'while it answers the old data');
  await proxyC.heal();
  const healed = Date.now();
  let okBeforeData = 0;
  const took = await within(10_000, async () => {
    const health = await nodeC.health();
    const current = (await nodeC.ask('mail.example.org.'))[0] === '198.51.100.11';
    if (health === 'ok' && !current) okBeforeData++;
    return current;
  });
  t.ok(took >= 0, `c answers the write ${Date.now() - healed} ms after the partition healed`);
  t.equal(okBeforeData, 0, 'never ok while it answered old data');
  t.ok((await within(15_000, async () => (await nodeC.health()) === 'ok')) >= 0, 'ok once caught up');
});

t.test('cluster status on c shows the links a and b hold towards it, in 120 columns', async (t) => {
  const done = await within(10_000, async () => {
    const lines = (await cluster(dbC.url, 'status')).trim().split('\n');
    return lines.filter((l) => /caught up\s+0\s/.test(l)).length === 4;
  });
  const out = await cluster(dbC.url, 'status');
  t.ok(done >= 0, out);
  const lines = out.trim().split('\n');
  for (const line of lines) t.ok(line.length <= 120, `fits 120 columns (${line.length}): ${line}`);
  t.equal(lines.filter((l) => /node-a/.test(l) && /node-c/.test(l)).length, 2, 'a → c and c → a');
  t.equal(lines.filter((l) => /node-b/.test(l) && /node-c/.test(l)).length, 2, 'b → c and c → b');
  t.match(out, /HELD BY/);
});

t.test('a peer gone for good: after leave and forget, the others stop waiting for it', async (t) => {
  await nodeB.stop();
  await dbB.stop();
  const silent = await within(15_000, async () => /no news from node-b/.test((await nodeC.healthz()).body.data.reasons.join('\n')));
  t.ok(silent >= 0, 'c notices that b is silent');
  t.ok((await within(5000, async () => /^stale \d+ not-receiving$/.test(await nodeA.health()))) >= 0, 'so does a');
  t.match(await cluster(dbA.url, 'leave', dbB.url), /2 replication\(s\) removed/);
  t.match(await cluster(dbC.url, 'forget', 'node-b'), /forgot node-b/);
  for (const node of [nodeA, nodeC]) {
    t.ok((await within(10_000, async () => (await node.health()) === 'ok')) >= 0, `${node.nodeId} is ok again`);
  }
  t.match(await cluster(dbC.url, 'forget', 'node-b'), /no node node-b is known here/);
});
