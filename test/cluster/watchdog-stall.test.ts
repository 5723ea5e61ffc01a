// The watchdog's word "stalled" (src/cluster/watchdog.ts): a link is stalled when a change it lacked at one check is
// still missing at a later one and nothing was delivered for the stall time; then it is restarted. A link whose source
// keeps changing but which delivers every change by the next check is never stalled, however long since it was last
// seen fully caught up: under a steady stream of writes on a busy mesh (bench/mesh-latency.ts, seven nodes on two
// cores) the watchdog used to call such links stalled at the first check that found the newest write in flight,
// restart them and write health documents about it, each of which every replication of the mesh then carried.
//
// Two pouchdb-servers and one replication document from the first to the second whose job carries nothing (doc_ids
// names no document): the test delivers each change to the target itself, so it decides what is pending at each
// check. The watchdog's rounds are run by the test, one at a time.

import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { replicationId } from '../../src/cluster/replication.js';
import { ReplicationWatchdog } from '../../src/cluster/watchdog.js';
import { couchServer } from '../../src/store/couch-http.js';
import { couchRequest as couch } from '../helpers/couch-request.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';

const DB = 'edgedns_data';
const STALL_MS = 1500;

const [source, target] = [await startPouchServer({ inMemory: true }), await startPouchServer({ inMemory: true })];
t.teardown(async () => {
  await source.destroy();
  await target.destroy();
});

for (const server of [source, target]) await couch(`${server.url}${DB}`, 'PUT');
await couch(`${source.url}_replicator`, 'PUT').catch(() => undefined);
const linkId = replicationId('push', DB, target.url);
await couch(`${source.url}_replicator/${encodeURIComponent(linkId)}`, 'PUT', {
  source: `${source.url}${DB}`,
  target: `${target.url}${DB}`,
  continuous: true,
  // The job runs, but carries nothing: the test is the replication.
  doc_ids: ['carried-by-the-test-instead'],
});

let written = 0;
/** A change arriving at the source. */
async function write(): Promise<void> {
  await couch(`${source.url}${DB}/doc-${++written}`, 'PUT', { n: written });
}

/** Replication delivering everything the source has to the target (same revisions). */
async function deliver(): Promise<void> {
  const { rows } = await couch<{ rows: { doc: Record<string, unknown> }[] }>(`${source.url}${DB}/_all_docs?include_docs=true`);
  await couch(`${target.url}${DB}/_bulk_docs`, 'POST', { docs: rows.map((row) => row.doc), new_edits: false });
}

const registry = new Registry();
const watchdog = new ReplicationWatchdog({
  local: couchServer({ url: source.url }),
  mainDb: DB,
  nodeId: 'node-a',
  logger: pino({ level: 'silent' }),
  registry,
  intervalMs: 60_000,
  stallMs: STALL_MS,
});
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const states: string[] = [];

/** One watchdog round; the link's state after it. */
async function check(): Promise<{ state: string; pending: number }> {
  await watchdog.round();
  const link = watchdog.links().find((l) => l.id === linkId);
  if (!link) throw new Error(`the watchdog does not see ${linkId}`);
  states.push(link.state);
  return { state: link.state, pending: link.pending };
}

async function restarts(): Promise<number> {
  const metric = await registry.getSingleMetric('edgedns_replication_restarts_total')?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

t.test('a link that delivers every change by the next check is never stalled, however long its source keeps moving', async (t) => {
  await write();
  await deliver();
  t.same(await check(), { state: 'caught-up', pending: 0 }, 'caught up to begin with');
  for (let round = 1; round <= 3; round++) {
    await write();
    t.equal((await check()).state, 'behind', `round ${round}: the source moved; not measured yet`);
    await deliver();
    // Longer than the stall time since the link was last seen caught up, and a new change has just arrived.
    await sleep(STALL_MS + 200);
    await write();
    const seen = await check();
    t.same(seen, { state: 'behind', pending: 1 }, `round ${round}: the change that has just arrived is pending; the link is behind, not stalled`);
    await deliver();
    t.same(await check(), { state: 'caught-up', pending: 0 }, `round ${round}: that one delivered too: caught up`);
  }
  t.notOk(states.includes('stalled'), `never stalled (states seen: ${states.join(', ')})`);
  t.equal(await restarts(), 0, 'never restarted');
});

t.test('a change that stays missing makes the link stalled after the stall time, and it is restarted', async (t) => {
  const restartsBefore = await restarts();
  const started = Date.now();
  await write();
  let seen = await check();
  for (let i = 0; i < 20 && seen.state !== 'stalled'; i++) {
    await sleep(STALL_MS / 3);
    seen = await check();
  }
  const took = Date.now() - started;
  t.same(seen, { state: 'stalled', pending: 1 }, `stalled ${took} ms after the change arrived`);
  t.ok(took >= STALL_MS, 'not before the stall time');
  t.ok(took <= 2 * STALL_MS, 'nor long after it');
  t.equal(await restarts(), restartsBefore + 1, 'restarted once');
  await deliver();
  for (let i = 0; i < 10 && seen.state !== 'caught-up'; i++) {
    await sleep(STALL_MS / 3);
    seen = await check();
  }
  t.same(seen, { state: 'caught-up', pending: 0 }, 'caught up once the change is delivered');
});
