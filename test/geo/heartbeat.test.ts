// The `auto` heartbeat (the default): a minute for each other node the node knows, from one to ten minutes, so a
// mesh writes about one heartbeat a minute in all whatever its size, and every health document says the heartbeat it
// was written with (peers time its silence and its votes by it).

import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { GeoRuntime } from '../../src/geo/geo-runtime.js';
import { healthDocId, type HealthDoc } from '../../src/geo/health-docs.js';
import { autoHeartbeatMs } from '../../src/geo/health-writer.js';
import { waitFor } from '../helpers/wait-for.js';
import { tempPouchStore } from '../helpers/temp-store.js';

const logger = pino({ level: 'silent' });

t.test('a minute for each other node, from one to ten minutes', async (t) => {
  const minutes = [1, 2, 3, 7, 11, 50].map((nodes) => autoHeartbeatMs(nodes) / 60_000);
  t.same(minutes, [1, 1, 2, 6, 10, 10]);
});

t.test("a node's health document says the heartbeat of the mesh it knows", async (t) => {
  const store = await tempPouchStore(t, 'heartbeat');
  // Six peers' documents, as replication brought them, one of them forgotten (it no longer counts).
  const now = Date.now();
  for (let i = 2; i <= 7; i++) {
    const doc: HealthDoc = { _id: healthDocId(`n${i}`), type: 'health', node: `n${i}`, updatedAt: now, intervalMs: 10_000, heartbeatMs: 60_000, edges: {} };
    await store.put(doc);
  }
  await store.put({ _id: 'forgotten/n7', type: 'forgotten', node: 'n7', forgottenAt: now + 1000 });

  const start = async (heartbeatMs?: number | 'auto'): Promise<GeoRuntime> => {
    const geo = await GeoRuntime.start({
      store,
      registry: new Registry(),
      logger,
      nodeId: 'n1',
      config: { geoipPaths: [], clustered: true, ...(heartbeatMs !== undefined ? { heartbeatMs } : {}) },
    });
    t.teardown(() => geo.close());
    return geo;
  };
  const written = async (): Promise<number | undefined> => ((await store.get(healthDocId('n1'))) as HealthDoc | undefined)?.heartbeatMs;

  const auto = await start();
  await waitFor(async () => (await written()) !== undefined, { timeoutMs: 5000, what: "n1's health document" });
  t.equal(await written(), 5 * 60_000, 'six nodes known (n7 forgotten): five minutes');
  t.equal(auto.healthWriter?.heartbeatMs, 5 * 60_000, 'the heartbeat in force');
  await auto.close();

  await store.put({ _id: healthDocId('n8'), type: 'health', node: 'n8', updatedAt: now, intervalMs: 10_000, edges: {} });
  const fixed = await start(90_000);
  await waitFor(async () => (await written()) === 90_000, { timeoutMs: 5000, what: 'the document of a node with --heartbeat 90' });
  t.equal(fixed.healthWriter?.heartbeatMs, 90_000, '--heartbeat S is kept whatever the size of the mesh');
});
