// What the node says about its data: ok, stale with the reason and its age, degraded with the reason; one index
// restored from local state and not yet in sync is enough to say local-state.

import { Registry } from 'prom-client';
import t from 'tap';
import { StoreHealth } from '../../src/store/store-health.js';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

t.test('ok while every index is in sync and nothing else is wrong', async (t) => {
  const c = clock();
  const health = new StoreHealth(new Registry(), c.now);
  health.markSynced();
  health.index('geo').markSynced();
  t.equal(health.text(), 'ok');
  t.match(health.status(), { state: 'ok', ageSeconds: 0, connected: true, source: 'store', reasons: [] });
});

t.test('an index restored from local state says local-state and how old its data is', async (t) => {
  const c = clock();
  const registry = new Registry();
  const health = new StoreHealth(registry, c.now);
  health.markSynced();
  health.index('pages').restoredFrom(c.now() - 42_000);
  t.equal(health.text(), 'stale 42 local-state');
  t.match(health.status(), { state: 'stale', source: 'snapshot', connected: false, ageSeconds: 42 });
  t.match(health.status().reasons.join('\n'), /pages: served from local state/);
  t.match(await registry.metrics(), /edgedns_local_state_serving\{index="pages"\} 1/);
  health.index('pages').markSynced();
  t.equal(health.text(), 'ok');
});

t.test('a lost feed ages from the moment it was lost', async (t) => {
  const c = clock();
  const health = new StoreHealth(new Registry(), c.now);
  health.markSynced();
  c.advance(5000);
  health.markDown();
  c.advance(7000);
  t.equal(health.text(), 'stale 7 store-unreachable');
});

t.test('not receiving from peers is stale though every feed is connected', async (t) => {
  const c = clock();
  const health = new StoreHealth(new Registry(), c.now);
  health.markSynced();
  health.setStale('receiving', { text: 'no news from n2 for 200 s', kind: 'not-receiving', since: c.now() - 200_000 });
  t.equal(health.text(), 'stale 200 not-receiving');
  t.match(health.status(), { state: 'stale', connected: true, reasons: ['no news from n2 for 200 s'] });
  health.setStale('receiving', undefined);
  t.equal(health.text(), 'ok');
});

t.test('a store that fails writes is degraded, whatever else holds', async (t) => {
  const c = clock();
  const registry = new Registry();
  const health = new StoreHealth(registry, c.now);
  health.markSynced();
  health.setDegraded('store-write', 'the disk of the embedded store (/data/db) is full');
  t.equal(health.text(), 'degraded the disk of the embedded store (/data/db) is full');
  t.equal(health.status().state, 'degraded');
  t.match(await registry.metrics(), /edgedns_health_state\{state="degraded"\} 1/);
  health.setDegraded('store-write', undefined);
  t.equal(health.text(), 'ok');
});
