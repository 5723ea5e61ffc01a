// Probes against real servers on loopback: HTTP status and TCP connect, hysteresis (down after 3 failures, up after
// 2 successes, up before any result), the RTT average, and this node's health document in the store.

import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { normalizeEdge, normalizePool } from '../../src/geo/edge-docs.js';
import { GeoState } from '../../src/geo/geo-state.js';
import { isHealthDoc } from '../../src/geo/health-docs.js';
import { HealthWriter } from '../../src/geo/health-writer.js';
import { GeoMetrics } from '../../src/geo/metrics.js';
import { probeEdge, Prober } from '../../src/geo/probes.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { HealthServer } from './geo-helpers.js';

const logger = pino({ level: 'silent' });

t.test('HTTP and TCP probes see real servers, and their absence', async (t) => {
  const http = await HealthServer.start();
  t.teardown(() => http.down());
  const up = await probeEdge(normalizeEdge({ name: 'a', ipv4: ['127.0.0.1'], check: http.url }), 1000);
  t.ok(up.ok, 'HTTP 200');
  t.ok(up.rttMs > 0, 'with a round-trip time');
  const wrong = await probeEdge(normalizeEdge({ name: 'a', ipv4: ['127.0.0.1'], check: { type: 'http', url: http.url, expectStatus: 204 } }), 1000);
  t.match(wrong, { ok: false, error: 'status 200' }, 'an unexpected status fails');

  const port = await freePort();
  const tcp = net.createServer((s) => s.end());
  await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', () => r()));
  t.ok((await probeEdge(normalizeEdge({ name: 'b', ipv4: ['127.0.0.1'], check: `tcp:${port}` }), 1000)).ok, 'TCP connect');
  await new Promise<void>((r) => tcp.close(() => r()));
  t.match(await probeEdge(normalizeEdge({ name: 'b', ipv4: ['127.0.0.1'], check: `tcp:${port}` }), 1000), { ok: false, error: 'ECONNREFUSED' }, 'TCP refused');
  await http.down();
  t.notOk((await probeEdge(normalizeEdge({ name: 'a', ipv4: ['127.0.0.1'], check: http.url }), 1000)).ok, 'HTTP server gone');
});

t.test('hysteresis: up until 3 failures, down until 2 successes; observations written to the store', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-probe-'));
  const store = await PouchStore.open(dir);
  const server = await HealthServer.start();
  t.teardown(async () => {
    await server.down();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await server.down(); // the edge is unreachable from the start
  const state = new GeoState({ nodeId: 'n1', intervalMs: 1000, logger });
  state.edges.set('e', normalizeEdge({ name: 'e', ipv4: ['127.0.0.1'], check: server.url }));
  state.pools.set('p', normalizePool({ name: 'p', members: ['e'] }));
  state.rebuild();
  t.ok(state.snapshot.edges.get('e')?.up, 'before any probe result: up');
  const metrics = new GeoMetrics(new Registry());
  const writer = new HealthWriter({ store, nodeId: 'n1', logger, metrics, intervalMs: 1000, heartbeatMs: 60_000, always: false, minGapMs: 0 });
  writer.start();
  const prober = new Prober({ state, nodeId: 'n1', logger, metrics, probe: { intervalMs: 1000, timeoutMs: 500, downAfter: 3, upAfter: 2 }, writer });

  const ups: boolean[] = [];
  for (let i = 0; i < 3; i++) {
    await prober.round();
    ups.push(state.snapshot.edges.get('e')?.up === true);
  }
  t.same(ups, [true, true, false], 'down only at the third failure');
  await server.up();
  const back: boolean[] = [];
  for (let i = 0; i < 2; i++) {
    await prober.round();
    back.push(state.snapshot.edges.get('e')?.up === true);
  }
  t.same(back, [false, true], 'up again at the second success');
  t.ok(state.snapshot.edges.get('e')?.ownRttMs !== undefined, 'RTT average kept');

  await writer.flush();
  const doc = await store.get('health/n1');
  t.ok(doc && isHealthDoc(doc), 'one document for this observer');
  if (doc && isHealthDoc(doc)) {
    t.equal(doc.node, 'n1');
    t.ok(doc.edges.e, 'with the edge');
    t.equal(doc.intervalMs, 1000);
  }
  await prober.stop();
  await writer.stop();
});

t.test('the steady RTT is published beside the average, and a restarted prober goes on from its document', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-probe-'));
  const store = await PouchStore.open(dir);
  const server = await HealthServer.start();
  t.teardown(async () => {
    await server.down();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const location = { latitude: 50.11, longitude: 8.68 };
  const state = new GeoState({ nodeId: 'n1', intervalMs: 1000, logger, location });
  state.edges.set('e', normalizeEdge({ name: 'e', ipv4: ['127.0.0.1'], check: server.url }));
  state.pools.set('p', normalizePool({ name: 'p', members: ['e'] }));
  state.rebuild();
  const probe = { intervalMs: 1000, timeoutMs: 500, downAfter: 3, upAfter: 2 };
  const metrics = new GeoMetrics(new Registry());
  const writer = new HealthWriter({ store, nodeId: 'n1', logger, metrics, intervalMs: 1000, heartbeatMs: 60_000, always: false, minGapMs: 0, location });
  writer.start();
  const prober = new Prober({ state, nodeId: 'n1', logger, metrics, probe, writer });
  await prober.round();
  t.equal(server.lastUserAgent, 'edgedns-probe (node n1)', 'the probe says which node asks');
  await writer.flush();
  const first = await store.get('health/n1');
  t.ok(first && isHealthDoc(first), 'written');
  if (!first || !isHealthDoc(first)) return;
  t.same(first.location, location, 'with where the observer is');
  const steady = first.edges.e.steadyRttMs as number;
  t.ok(steady > 0, `a steady RTT from the first measurement (${steady} ms)`);
  t.equal(state.snapshot.edges.get('e')?.votes[0]?.steadyRttMs, steady, 'its own vote carries the number its document holds');
  await prober.stop();
  await writer.stop();

  // a restart: a new prober and state that hold this node's document (as geo-sync reads it from the store or local
  // state); loopback RTTs differ from round to round, but by less than the 10 ms margin, so the steady value stays
  // what the document said
  const again = new GeoState({ nodeId: 'n1', intervalMs: 1000, logger });
  again.edges.set('e', normalizeEdge({ name: 'e', ipv4: ['127.0.0.1'], check: server.url }));
  again.pools.set('p', normalizePool({ name: 'p', members: ['e'] }));
  again.health.set('n1', first);
  again.rebuild();
  const restarted = new Prober({ state: again, nodeId: 'n1', logger, metrics: new GeoMetrics(new Registry()), probe });
  restarted.resume();
  t.equal(again.snapshot.edges.get('e')?.votes[0]?.steadyRttMs, steady, 'before its first probe, the restarted node votes with what it had published');
  await restarted.round();
  t.equal(again.snapshot.edges.get('e')?.votes[0]?.steadyRttMs, steady, 'the restarted node votes with the steady RTT it had published');
  await restarted.stop();
});

t.test('an edge a pool takes in is probed at once, not an interval later', async (t) => {
  const server = await HealthServer.start();
  t.teardown(() => server.down());
  const state = new GeoState({ nodeId: 'n1', intervalMs: 60_000, logger });
  state.edges.set('old', normalizeEdge({ name: 'old', ipv4: ['127.0.0.1'], check: server.url }));
  state.edges.set('new', normalizeEdge({ name: 'new', ipv4: ['127.0.0.2'], check: server.url }));
  state.pools.set('p', normalizePool({ name: 'p', members: ['old'] }));
  state.rebuild();
  const metrics = new GeoMetrics(new Registry());
  const prober = new Prober({ state, nodeId: 'n1', logger, metrics, probe: { intervalMs: 60_000, timeoutMs: 500, downAfter: 3, upAfter: 2 } });
  prober.start();
  t.teardown(() => prober.stop());
  await waitFor(() => state.snapshot.edges.get('old')?.ownRttMs !== undefined, { what: 'the first round', timeoutMs: 5000 });
  t.equal(state.snapshot.edges.get('new')?.ownRttMs, undefined, 'an edge no pool uses is not probed');

  // A minute-long interval: only the pool change can make the prober look at the new edge now.
  state.pools.set('p', normalizePool({ name: 'p', members: ['old', 'new'] }));
  state.rebuild();
  const probed = await waitFor(() => state.snapshot.edges.get('new')?.ownRttMs !== undefined, { what: 'the new member to be probed', timeoutMs: 5000 });
  t.ok(probed.value, `the new member is probed ${probed.ms} ms after the pool took it in (interval 60 s)`);
  const rounds = async (): Promise<number> => (await metrics.probes.get()).values.filter((v) => v.labels.edge === 'old').reduce((sum, v) => sum + v.value, 0);
  const after = await rounds();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(await rounds(), after, 'and then the prober waits for its interval again');
});
