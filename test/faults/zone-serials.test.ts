// Issue 13: serials that mean something. Two nodes, each on its own pouchdb-server, replicating both ways. The
// replication stops (a partition), each side edits the zone through its API, then the replication comes back (the
// heal). Before: both sides reached the same serial with different data, and the heal left it there. Now every node
// converges on one content, served with one serial higher than any serial either side served; the losing edit stays
// listed as a conflict, and resolving it by keeping the loser moves the serial again, on every node.

import path from 'node:path';
import t from 'tap';
import { join, leave } from '../../src/cluster/replication.js';
import { MAIN_DB_SUFFIX } from '../../src/store/couch-store.js';
import { couchServer } from '../../src/store/couch-http.js';
import { serialGreater } from '../../src/zone/serial.js';
import { runCommand } from '../helpers/cli.js';
import { firstAnswer } from '../helpers/dig.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';

const ZONE = path.resolve('zones/example.com.zone');
const PREFIX = 'edgedns_serials_';

const servers: PouchServer[] = [await startPouchServer({ inMemory: true }), await startPouchServer({ inMemory: true })];
t.teardown(() => Promise.all(servers.map((s) => s.destroy())));
const [dbA, dbB] = servers;
const nodeA = await startTestNode({ nodeId: 'node-a', zoneFiles: [ZONE], flags: { couchdb: dbA.url, 'db-prefix': PREFIX } });
const nodeB = await startTestNode({ nodeId: 'node-b', flags: { couchdb: dbB.url, 'db-prefix': PREFIX } });
const nodes = [nodeA, nodeB];
t.teardown(() => Promise.all(nodes.map((n) => n.close())));

async function api(node: TestNode, method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- reads whatever the route returned
  const response = await node.api(method, url, { body });
  return { status: response.status, json: response.body };
}

const ask = (node: TestNode, name: string, type = 'A'): Promise<string> => firstAnswer(node.dnsPort, name, type);

async function serial(node: TestNode): Promise<number> {
  return Number((await ask(node, 'example.com.', 'SOA')).split(/\s+/)[2]);
}

/**
 * What a node answers for the names the test edits, and its serial. Four questions are not one instant: a sample
 * during which the serial moved (the node switched versions between two questions) is taken again, so a mix seen
 * here was served under one serial.
 */
async function view(node: TestNode): Promise<string> {
  for (let attempt = 1; attempt <= 20; attempt++) {
    const before = await serial(node);
    const answers = [await ask(node, 'mail.example.com.'), await ask(node, 'sip.example.com.'), await ask(node, 'extra.example.com.')];
    if ((await serial(node)) === before) return JSON.stringify([...answers, before]);
  }
  throw new Error('the serial moved during each of 20 samples');
}

function mesh(): Promise<unknown> {
  return Promise.all([join(couchServer({ url: dbA.url }), dbB.url, PREFIX, `${PREFIX}${MAIN_DB_SUFFIX}`), join(couchServer({ url: dbB.url }), dbA.url, PREFIX, `${PREFIX}${MAIN_DB_SUFFIX}`)]);
}

function partition(): Promise<unknown> {
  return Promise.all([leave(couchServer({ url: dbA.url }), dbB.url), leave(couchServer({ url: dbB.url }), dbA.url)]);
}

t.test('meshed, both nodes serve the zone with the same serial', async (t) => {
  await mesh();
  const agreed = await waitFor(
    async () => {
      const views = await Promise.all(nodes.map(view));
      return views.every((v) => v === views[0]) && !JSON.parse(views[0]).includes('REFUSED');
    },
    { what: 'both nodes to answer the zone A imported alike', timeoutMs: 15_000 },
  );
  t.ok(agreed.value, 'B has the zone A imported');
});

t.test('a partition with conflicting edits heals into one content and a serial above both sides', async (t) => {
  await partition();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = await serial(nodeA);

  // Two edits on each side: the same RRset on both, and one RRset only that side changes.
  t.equal((await api(nodeA, 'PUT', '/v1/zones/example.com/rrsets/mail/A', { ttl: 300, records: ['198.51.100.10'] })).status, 200);
  t.equal((await api(nodeA, 'PUT', '/v1/zones/example.com/rrsets/sip/A', { ttl: 300, records: ['198.51.100.11'] })).status, 200);
  t.equal((await api(nodeB, 'PUT', '/v1/zones/example.com/rrsets/mail/A', { ttl: 300, records: ['198.51.100.20'] })).status, 200);
  t.equal((await api(nodeB, 'PUT', '/v1/zones/example.com/rrsets/extra/A', { ttl: 300, records: ['198.51.100.21'] })).status, 201);
  const serialA = await serial(nodeA);
  const serialB = await serial(nodeB);
  t.equal(await ask(nodeA, 'mail.example.com.'), '198.51.100.10', 'A, cut off, serves its own edits');
  t.equal(await ask(nodeB, 'mail.example.com.'), '198.51.100.20', 'B, cut off, serves its own edits');
  // Nothing can tell two sides that cannot reach each other apart: each moved its serial the same way.
  t.equal(serialA, serialB, `both sides moved their serial from ${before} to ${serialA}, with different data`);

  const sides = await Promise.all(nodes.map(view));
  await mesh();
  // Every answer seen while the nodes converge: each node answers its own side's data until it switches, at once,
  // to a merged version; never a mix of both sides under an old serial. A node that merged before all of the other
  // side's documents had reached it writes a version that a later merge replaces: that is a version of its own, with
  // a serial of its own, and what matters is that no serial is ever seen with two contents.
  const seen = nodes.map(() => new Set<string>());
  let last: string[] = [];
  const { ms: took } = await waitFor(
    async () => {
      const views = await Promise.all(nodes.map(view));
      views.forEach((v, i) => seen[i].add(v));
      last = views;
      return views.every((v) => v === views[0]) && !sides.includes(views[0]);
    },
    { what: 'both nodes to answer one merged version after the heal', timeoutMs: 30_000 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${last.join(' | ')}; before the heal: ${sides.join(' | ')}`);
  });
  t.pass(`both nodes answer the same data with the same serial ${took} ms after the heal`);
  // Stable: no node keeps rewriting the zone. A merge already on its way when the two first agreed may still move
  // the serial once more; then both answer one view that stays put for 3 s.
  let settled = last[0];
  let since = Date.now();
  const settling = await waitFor(
    async () => {
      const views = await Promise.all(nodes.map(view));
      views.forEach((v, i) => seen[i].add(v));
      if (!views.every((v) => v === views[0]) || views[0] !== settled) {
        settled = views[0];
        since = Date.now();
      }
      return views.every((v) => v === views[0]) && Date.now() - since >= 3000;
    },
    { what: 'both nodes to answer one view for 3 s', timeoutMs: 20_000, intervalMs: 200 },
  );
  t.ok(settling.value, `both nodes answer one view for 3 s, ${took + settling.ms - 3000} ms after the heal`);
  const merged = settled;
  nodes.forEach((node, i) => {
    const between = [...seen[i]].filter((v) => v !== sides[i] && v !== merged);
    t.same(between.filter((v) => !serialGreater(JSON.parse(v)[3], serialA)), [], `node ${'AB'[i]} answered its own side's data, then merged versions above both sides' serial, and nothing between${between.length > 0 ? ` (an earlier merge: ${between.join(', ')})` : ''}`);
  });
  // The two sides' serials are equal with different data (nothing can prevent that during a partition); every
  // version after them names one content.
  const contents = new Map<number, Set<string>>();
  for (const v of seen.flatMap((s) => [...s]).filter((v) => !sides.includes(v))) {
    const [mail, sip, extra, s] = JSON.parse(v) as [string, string, string, number];
    contents.set(s, (contents.get(s) ?? new Set()).add(JSON.stringify([mail, sip, extra])));
  }
  t.same([...contents].filter(([, c]) => c.size > 1).map(([s, c]) => `${s}: ${[...c].join(' and ')}`), [], `each serial answered after the heal names one content (${contents.size} serial(s))`);
  const healed = JSON.parse(merged) as [string, string, string, number];
  t.ok(serialGreater(healed[3], serialA) && serialGreater(healed[3], serialB), `the healed serial ${healed[3]} is above both sides' (${serialA}, ${serialB})`);
  t.ok(['198.51.100.10', '198.51.100.20'].includes(healed[0]), `mail is one of the two edits (${healed[0]})`);
  t.equal(healed[1], '198.51.100.11', "A's edit nobody else made is kept");
  t.equal(healed[2], '198.51.100.21', "B's edit nobody else made is kept");

  t.test('the losing edit is listed; keeping it moves the serial again on every node', async (t) => {
    const ids = async (node: TestNode): Promise<string[]> => ((await api(node, 'GET', '/v1/conflicts')).json.conflicts as { id: string }[]).map((c) => c.id);
    await waitFor(
      async () => {
        for (const node of nodes) if (JSON.stringify(await ids(node)) !== JSON.stringify(['rrset/example.com./mail.example.com./A'])) return false;
        return true;
      },
      { what: 'both nodes to list the mail RRset, and only it, as a conflict', timeoutMs: 10_000 },
    );
    t.pass(`on both nodes the mail RRset is listed as a conflict, and nothing else (the versions' own bookkeeping is cleaned up): ${JSON.stringify(await ids(nodeA))}`);
    const { conflicts } = (await api(nodeA, 'GET', '/v1/conflicts')).json as { conflicts: { id: string; losers: { rev: string; doc: { records: string[] } }[] }[] };
    const mail = conflicts.find((c) => c.id.endsWith('/mail.example.com./A'));
    const loser = mail!.losers[0];
    const listing = await runCommand(['cluster', 'conflicts', '--couchdb', dbB.url, '--db-prefix', PREFIX]);
    t.match(listing.stdout, mail!.id, '`cluster conflicts` lists the RRset too');
    t.match(listing.stdout, loser.rev, 'with the losing revision to keep');
    const resolved = await api(nodeA, 'POST', '/v1/conflicts/resolve', { id: mail!.id, keep: loser.rev });
    t.equal(resolved.status, 200, JSON.stringify(resolved.json));
    await waitFor(
      async () => {
        const views = await Promise.all(nodes.map(view));
        const [address, , , s] = JSON.parse(views[0]) as [string, string, string, number];
        return views.every((v) => v === views[0]) && address === loser.doc.records[0] && serialGreater(s, healed[3]);
      },
      { what: `both nodes to answer the kept ${loser.doc.records[0]} with a serial above ${healed[3]}`, timeoutMs: 20_000 },
    );
    t.pass(`both nodes answer the kept ${loser.doc.records[0]} with a serial above ${healed[3]}`);
  });
});
