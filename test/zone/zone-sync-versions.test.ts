// The zone sync on a real embedded store, without the rest of a node: a version whose documents never all arrive
// is served as it is once the wait runs out (bounded, counted, and the zone reported as differing from its
// version), and a change of one RRset in a big zone updates that RRset's name, not the whole zone.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { Type } from '../../src/proto/constants.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import { Catalog } from '../../src/zone/catalog.js';
import { lookup } from '../../src/zone/lookup.js';
import { writeThrough } from '../../src/zone/write-through.js';
import { planSave, saveZone, updateRRsets } from '../../src/zone/zone-writer.js';
import { ZoneSync, type ZoneSyncOptions } from '../../src/zone/zone-sync.js';
import { StoreHealth } from '../../src/store/store-health.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { waitFor } from '../helpers/wait-for.js';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

function zoneText(hosts: number, address: (i: number) => string): string {
  const lines = ['$ORIGIN big.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 7200 900 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.250'];
  for (let i = 0; i < hosts; i++) lines.push(`h${i} A ${address(i)}`);
  return lines.join('\n') + '\n';
}

async function fixture(
  t: TapTest,
  versionWaitMs = 60_000,
  more: Pick<ZoneSyncOptions, 'health' | 'heldStaleMs'> = {},
): Promise<{ store: PouchStore; sync: ZoneSync; catalog: Catalog; registry: Registry }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-sync-versions-'));
  const store = await PouchStore.open(dir);
  const catalog = new Catalog();
  const registry = more.health ? healthRegistry : new Registry();
  const sync = new ZoneSync({ store, catalog, registry, logger: pino({ level: 'silent' }), versionWaitMs, ...more });
  await sync.start();
  t.teardown(async () => {
    await sync.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, sync, catalog, registry };
}

function answer(catalog: Catalog, name: string): string | undefined {
  const zone = catalog.get('big.test.');
  const rrset = zone && lookup(zone, name, Type.A).answer[0]?.rrset;
  return rrset ? [...rrset.records[0].tail.subarray(10)].join('.') : undefined;
}

async function metric(registry: Registry, name: string): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** Waits (polling every 10 ms) until `check` holds, and passes `what`; a WaitTimeout naming it fails the test. */
async function until(t: TapTest, check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  await waitFor(check, { what, timeoutMs, intervalMs: 10 });
  t.pass(what);
}

t.test('a version that never arrives whole is served as it is once the wait runs out, and says so', async (t) => {
  const { store, sync, catalog, registry } = await fixture(t, 400);
  await saveZone(store, parseZoneFile(zoneText(50, () => '192.0.2.1')), { replace: false });
  await until(t, () => answer(catalog, 'h0.big.test.') === '192.0.2.1', 'the first version is served');

  const { docs, result } = await planSave(store, parseZoneFile(zoneText(50, () => '198.51.100.1')), { replace: true });
  // One RRset of the new version never arrives (a conflict lost it, a write failed half way).
  const lost = docs.findIndex((doc) => doc._id.endsWith('/h49.big.test./A'));
  docs.splice(lost, 1);
  await store.bulk(docs);
  await until(t, () => sync.status().waiting.length === 1, 'the zone waits for the rest of the version', 2000);
  t.equal(answer(catalog, 'h0.big.test.'), '192.0.2.1', 'while it waits, the previous version is served whole');

  await until(t, () => catalog.get('big.test.')?.soaSerial === result.serial, 'after the wait the version is served as it is', 5000);
  t.equal(answer(catalog, 'h0.big.test.'), '198.51.100.1');
  t.equal(answer(catalog, 'h49.big.test.'), '192.0.2.1', 'the RRset that never came keeps its old data');
  t.equal(await metric(registry, 'edgedns_zone_versions_total{result="forced"}'), 1, 'counted as forced');
  t.same(sync.status().waiting, [], 'nothing waits any more');
  t.same(sync.status().diverged, ['big.test.'], 'and the zone is reported as differing from its version');
});

const healthRegistry = new Registry();

t.test('a zone holding back a version that does not complete makes the node say stale, until it completes', async (t) => {
  const health = new StoreHealth(healthRegistry);
  const { store, catalog } = await fixture(t, 60_000, { health, heldStaleMs: 300 });
  await saveZone(store, parseZoneFile(zoneText(20, () => '192.0.2.1')), { replace: false });
  await until(t, () => answer(catalog, 'h0.big.test.') === '192.0.2.1', 'the first version is served');
  t.equal(health.status().state, 'ok', 'ok while it serves the whole of its version');

  const { docs, result } = await planSave(store, parseZoneFile(zoneText(20, () => '198.51.100.1')), { replace: true });
  const late = docs.splice(docs.findIndex((doc) => doc._id.endsWith('/h19.big.test./A')), 1);
  await store.bulk(docs);
  await until(t, () => health.status().state === 'stale', 'stale once the version has waited longer than heldStaleMs', 3000);
  t.match(health.status().reasons.join('\n'), /zone big\.test\. waits for the rest of a version \(\d+ document\(s\) held \d+ s\)/, 'the reason names the zone');
  t.equal(answer(catalog, 'h0.big.test.'), '192.0.2.1', 'it still answers the previous version, which is why it is stale');

  await store.bulk(late);
  await until(t, () => catalog.get('big.test.')?.soaSerial === result.serial, 'the version completes and is served');
  await until(t, () => health.status().state === 'ok', 'ok again', 2000);
});

t.test('one RRset changed in a 5,000-RRset zone updates its name, not the whole zone', async (t) => {
  const { store, sync, catalog, registry } = await fixture(t);
  const writer = writeThrough(store, (docs) => sync.written(docs));
  await saveZone(writer, parseZoneFile(zoneText(5000, (i) => `10.0.${i >> 8}.${i & 255}`)), { replace: false });
  await until(t, () => answer(catalog, 'h4999.big.test.') === '10.0.19.135', 'the zone is served');
  const builds = await metric(registry, 'edgedns_zone_index_updates_total{kind="build"}');
  const patches = await metric(registry, 'edgedns_zone_index_updates_total{kind="patch"}');
  const before = catalog.get('big.test.');

  const result = await updateRRsets(writer, 'big.test.', () => [{ name: 'h7.big.test.', type: 'A', rrset: { name: 'h7.big.test.', type: 'A', ttl: 300, records: ['203.0.113.7'] } }]);
  await until(t, () => catalog.get('big.test.')?.soaSerial === result.serial, 'the change is served');
  t.equal(answer(catalog, 'h7.big.test.'), '203.0.113.7');
  t.equal(answer(catalog, 'h8.big.test.'), '10.0.0.8', 'the other names are as they were');
  t.equal(await metric(registry, 'edgedns_zone_index_updates_total{kind="patch"}'), patches + 1, 'the index was patched');
  t.equal(await metric(registry, 'edgedns_zone_index_updates_total{kind="build"}'), builds, 'not rebuilt');
  t.equal(catalog.get('big.test.')?.nodes, before?.nodes, 'the names of the zone are the same table, changed in place');
});
