// Three nodes, each on its own CouchDB-protocol server, joined into a mesh by `edgedns cluster join`: an edit on A
// is answered by C; a partition with the same RRset edited on both sides heals into one answer everywhere (CouchDB's
// deterministic winner) with the losing revision listed, and resolving it by keeping the loser reaches every node.

import path from 'node:path';
import t from 'tap';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { runCommand } from '../helpers/cli.js';
import { firstAnswer } from '../helpers/dig.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';

const ZONE = path.resolve('zones/example.com.zone');
const MAIL = rrsetDocId('example.com.', 'mail.example.com.', 'A');
const PREFIX = 'edgedns_';

const servers: PouchServer[] = [];
for (let i = 0; i < 3; i++) servers.push(await startPouchServer({ inMemory: true }));
t.teardown(() => Promise.all(servers.map((s) => s.destroy())));
const [dbA, dbB, dbC] = servers;

const nodes: TestNode[] = [];
for (const [i, db] of servers.entries()) {
  nodes.push(await startTestNode({ nodeId: `node-${'abc'[i]}`, zoneFiles: i === 0 ? [ZONE] : [], flags: { couchdb: db.url, 'db-prefix': PREFIX } }));
}
t.teardown(() => Promise.all(nodes.map((n) => n.close())));
const [nodeA, nodeB, nodeC] = nodes;

/** Runs `edgedns cluster ...` against one server's CouchDB, as an operator on that machine would. */
async function cluster(db: PouchServer, ...argv: string[]): Promise<string> {
  const result = await runCommand(['cluster', ...argv, '--couchdb', db.url]);
  if (result.error) throw result.error;
  return result.stdout;
}

async function api(node: TestNode, method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await node.api(method, url, { body });
  return { status: response.status, json: response.body };
}

const ask = (node: TestNode, name: string): Promise<string> => firstAnswer(node.dnsPort, name);

async function setMail(node: TestNode, address: string): Promise<void> {
  const { store } = node.node;
  const doc = await store.get(MAIL);
  if (!doc) throw new Error(`${MAIL} is missing on ${store.description}`);
  await store.put({ ...doc, records: [address] });
}

/** Waits until every node answers `address` for mail.example.com.; fails after `ms`. */
async function allAnswer(address: string, ms = 10_000): Promise<number> {
  const { ms: took } = await waitFor(
    async () => {
      for (const node of nodes) if ((await ask(node, 'mail.example.com.')) !== address) return false;
      return true;
    },
    { what: `every node to answer ${address}`, timeoutMs: ms },
  );
  return took;
}

t.test('cluster join meshes the three databases, and a second join creates nothing', async (t) => {
  t.match(await cluster(dbA, 'join', dbB.url), /2 replication\(s\) created/);
  t.match(await cluster(dbA, 'join', dbC.url), /2 replication\(s\) created/);
  t.match(await cluster(dbB, 'join', dbC.url), /2 replication\(s\) created/);
  t.match(await cluster(dbA, 'join', dbB.url), /0 replication\(s\) created, 2 already there/, 'idempotent');
  const status = await cluster(dbA, 'status');
  t.match(status, /PEER\s+DATABASE\s+DIR\s+STATE\s+CHECKPOINT\s+PENDING/);
  t.equal(status.trim().split('\n').length, 5, 'a header and four replications (two peers, both directions)');
  t.match(status, new RegExp(`${dbB.url}\\s+edgedns_data\\s+push`));
});

t.test('a zone on node A is answered by node C, and an edit sent to A reaches C', async (t) => {
  const reached = await waitFor(async () => (await ask(nodeC, 'mail.example.com.')) === '192.0.2.25', { what: 'the zone imported on A to be answered by C', timeoutMs: 10_000 });
  t.ok(reached.value, 'the zone reached C');
  await setMail(nodeA, '198.51.100.1');
  const edit = await waitFor(async () => (await ask(nodeC, 'mail.example.com.')) === '198.51.100.1', { what: 'the edit on A to be answered by C', timeoutMs: 10_000 });
  t.ok(edit.value, `answered by C ${edit.ms} ms after the write on A`);
});

t.test('a partition with the same RRset edited on both sides heals into one answer and a listed conflict', async (t) => {
  t.ok((await allAnswer('198.51.100.1')) >= 0, 'every node in sync before the partition');
  // Partition: A loses both its links; B and C stay together.
  t.match(await cluster(dbA, 'leave', dbB.url), /2 replication\(s\) removed/);
  t.match(await cluster(dbA, 'leave', dbC.url), /2 replication\(s\) removed/);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await setMail(nodeA, '198.51.100.10');
  await setMail(nodeB, '198.51.100.20');
  t.ok((await waitFor(async () => (await ask(nodeC, 'mail.example.com.')) === '198.51.100.20', { what: 'C to follow the edit on B', timeoutMs: 3000 })).value, 'C follows B');
  t.equal(await ask(nodeA, 'mail.example.com.'), '198.51.100.10', 'A, cut off, keeps its own edit');

  // Heal.
  await cluster(dbA, 'join', dbB.url);
  await cluster(dbA, 'join', dbC.url);
  const converged = await waitFor(
    async () => {
      const answers = await Promise.all(nodes.map((node) => ask(node, 'mail.example.com.')));
      return answers.every((a) => a === answers[0]) && ((await api(nodeC, 'GET', '/v1/conflicts')).json as { conflicts: unknown[] }).conflicts.length === 1;
    },
    { what: 'every node to answer the same, with the conflict listed on C', timeoutMs: 15_000 },
  );
  t.ok(converged.value, `every node answers the same after ${converged.ms} ms`);
  const answers = await Promise.all(nodes.map((node) => ask(node, 'mail.example.com.')));
  t.ok(['198.51.100.10', '198.51.100.20'].includes(answers[0]), `the winner is one of the two edits (${answers[0]})`);

  for (const node of nodes) {
    const what = `${node.node.store.description}: the conflict is listed`;
    const listed = await waitFor(async () => ((await api(node, 'GET', '/v1/conflicts')).json as { conflicts: unknown[] }).conflicts.length === 1, { what, timeoutMs: 10_000 });
    t.ok(listed.value, what);
  }
  const { json } = await api(nodeA, 'GET', '/v1/conflicts');
  const [conflict] = (json as { conflicts: { id: string; winner: { rev: string; doc: { records: string[] } }; losers: { rev: string; doc: { records: string[] } }[] }[] }).conflicts;
  t.equal(conflict.id, MAIL);
  t.same(conflict.winner.doc.records, [answers[0]], 'the winner is what is answered');
  t.equal(conflict.losers.length, 1);
  const loser = conflict.losers[0];
  t.not(loser.doc.records[0], answers[0], 'the other edit is kept as the loser, not dropped');
  const listing = await cluster(dbB, 'conflicts');
  t.match(listing, MAIL);
  t.match(listing, loser.rev);

  t.test('resolving by keeping the losing revision reaches every node', async (t) => {
    const bad = await api(nodeA, 'POST', '/v1/conflicts/resolve', { id: MAIL, keep: 'nonsense' });
    t.equal(bad.status, 400);
    t.match(bad.json, { error: { field: 'keep' } });
    const resolved = await api(nodeA, 'POST', '/v1/conflicts/resolve', { id: MAIL, keep: loser.rev });
    t.equal(resolved.status, 200, JSON.stringify(resolved.json));
    t.ok((await allAnswer(loser.doc.records[0])) >= 0, `every node answers the kept ${loser.doc.records[0]}`);
    const cleared = await waitFor(
      async () => {
        for (const node of nodes) if (((await api(node, 'GET', '/v1/conflicts')).json as { conflicts: unknown[] }).conflicts.length !== 0) return false;
        return true;
      },
      { what: 'no conflict listed on any node', timeoutMs: 10_000 },
    );
    t.ok(cleared.value, 'no conflict left anywhere');
  });
});

t.test('cluster leave removes every replication with the peer', async (t) => {
  await cluster(dbA, 'leave', dbB.url);
  await cluster(dbA, 'leave', dbC.url);
  t.match(await cluster(dbA, 'status'), /no replications/);
  t.match(await cluster(dbA, 'leave', dbC.url), /no replication with that peer/);
});
