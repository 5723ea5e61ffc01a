// The watchdog's "peer back" (src/cluster/watchdog.ts): a link whose peer has just come back from an outage is
// restarted at once, whether or not anything is pending yet. Its job failed meanwhile and is backing off, or, behind
// a network that dropped its packets, waits for good on a request that will never be answered; what the peer writes
// after the watchdog's first look at it back would otherwise wait until the link is called stalled.
//
// Two pouchdb-servers, a pull replication held by the first from the second through a TCP proxy, and the watchdog of
// the first, its rounds run by the test. The stall time is a minute: the only thing that can restart the link within
// the test is its peer coming back. The proxy black-holes the path: pouchdb-server's pull hangs on its changes
// request (no timeout), and stays hung once the path is back (verified by hand: with no watchdog, nothing written
// after the path came back had arrived 60 s later).

import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { replicationId } from '../../src/cluster/replication.js';
import { ReplicationWatchdog } from '../../src/cluster/watchdog.js';
import { couchServer } from '../../src/store/couch-http.js';
import { couchRequest as couch } from '../helpers/couch-request.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { tcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait-for.js';

const DB = 'edgedns_data';
const ROUND_MS = 300;

const [holder, peer] = [await startPouchServer({ inMemory: true }), await startPouchServer({ inMemory: true })];
t.teardown(async () => {
  await holder.destroy();
  await peer.destroy();
});
const path = await tcpProxy(peer.port);
t.teardown(() => path.close());

for (const server of [holder, peer]) await couch(`${server.url}${DB}`, 'PUT');
await couch(`${holder.url}_replicator`, 'PUT').catch(() => undefined);
const linkId = replicationId('pull', DB, path.url);
await couch(`${holder.url}_replicator/${encodeURIComponent(linkId)}`, 'PUT', { source: `${path.url}${DB}`, target: `${holder.url}${DB}`, continuous: true });

const registry = new Registry();
const watchdog = new ReplicationWatchdog({
  local: couchServer({ url: holder.url }),
  mainDb: DB,
  nodeId: 'holder',
  logger: pino({ level: 'silent' }),
  registry,
  // Its rounds are run by the test, this often; the interval also sets how long an outage must last (two rounds).
  intervalMs: ROUND_MS,
  stallMs: 60_000,
  // The rounds below would each wait 5 s on the black hole otherwise.
  readTimeoutMs: 1000,
});

async function link(): Promise<{ state: string; pending: number; restarts: number }> {
  await watchdog.round();
  const found = watchdog.links().find((l) => l.id === linkId);
  if (!found) throw new Error(`the watchdog does not see ${linkId}`);
  return { state: found.state, pending: found.pending, restarts: found.restarts };
}

/** Written on the peer; true once the holder has it. */
async function arrives(id: string, timeoutMs: number): Promise<{ value: boolean; ms: number }> {
  await couch(`${peer.url}${DB}/${id}`, 'PUT', { at: Date.now() });
  return waitFor(async () => (await couch<{ _id?: string }>(`${holder.url}${DB}/${id}`))._id === id, { what: `${id} to reach the holder`, timeoutMs });
}

t.test('a link whose peer comes back is restarted at once, and what the peer writes next arrives', async (t) => {
  t.ok((await arrives('before', 15_000)).value, 'the pull delivers to begin with');
  t.same(await link(), { state: 'caught-up', pending: 0, restarts: 0 }, "the watchdog's first look: caught up");

  path.blackHole();
  const unreachable = await waitFor(async () => (await link()).state === 'unreachable', { what: 'the peer to be unreachable', timeoutMs: 10_000, intervalMs: ROUND_MS });
  t.ok(unreachable.value, `the peer is unreachable after ${unreachable.ms} ms: the watchdog's reads do not hang on the black hole`);

  await path.heal();
  // The first read may go out on a pooled connection the black hole took: seen back at the round after it gives up.
  const back = await waitFor(async () => (await link()).restarts === 1, { what: 'the watchdog to restart the link', timeoutMs: 5000, intervalMs: ROUND_MS });
  t.ok(back.value, `the watchdog restarts the link ${back.ms} ms after the path came back, with nothing pending yet`);
  const after = await arrives('after', 10_000);
  t.ok(after.value, `a change the peer writes next arrives ${after.ms} ms later, with a stall time of a minute`);
  t.equal((await link()).restarts, 1, 'restarted once');
});
