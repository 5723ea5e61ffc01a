// Per-query cost of the handler answering the geo bench's pool (no sockets): decode, look up, locate the ECS
// network (DB-IP City Lite), select, encode, count. For profiling with
//   node --cpu-prof dist-bench/bench/geo-profile.js
// and for comparing changes to the geo hot path; it prints CPU nanoseconds per query for each mix.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createHandler } from '../src/dns/handler.js';
import { DnsMetrics } from '../src/dns/metrics.js';
import { normalizeEdge, normalizePool } from '../src/geo/edge-docs.js';
import { defaultGeoipPaths } from '../src/geo/geo-runtime.js';
import { GeoIp } from '../src/geo/geoip.js';
import { GeoState } from '../src/geo/geo-state.js';
import { GeoMetrics } from '../src/geo/metrics.js';
import { PoolAnswerer } from '../src/geo/pool-answerer.js';
import { Catalog } from '../src/zone/catalog.js';
import { buildZoneIndex } from '../src/zone/zone-index.js';
import { parseZoneFile } from '../src/zone/zonefile-parse.js';
import { textToWire } from '../src/proto/names.js';
import { writeBenchZone, writeQueries } from './data.js';
import { dbipLocator, distinctNetworkNumbers, ecsQuery, EDGES, GEO_NAME, locatedNetworks, writeGeoZone } from './geo-data.js';

/** PROFILE_ROUNDS: queries timed per mix (default 1,000,000). */
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 1_000_000);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgedns-geo-profile-'));
  try {
    const logger = pino({ level: 'silent' });
    const registry = new Registry();
    const { zoneFile } = writeGeoZone(dir);
    const catalog = new Catalog();
    const zone = parseZoneFile(readFileSync(zoneFile, 'utf8'), {});
    catalog.set(zone.name, buildZoneIndex(zone));
    // the static bench zone too: its answers are the yardstick the geo figures are divided by
    const benchZone = parseZoneFile(readFileSync(writeBenchZone(dir), 'utf8'), {});
    catalog.set(benchZone.name, buildZoneIndex(benchZone));
    const geoip = new GeoIp(defaultGeoipPaths(), { logger, registry });
    await geoip.load();
    geoip.close();
    const state = new GeoState({ nodeId: 'p', intervalMs: 10_000, logger, geoip });
    for (const edge of EDGES) state.edges.set(edge.name, normalizeEdge(edge));
    const pool = normalizePool({ name: 'world', members: EDGES.map((e) => e.name), ttl: 30 });
    state.pools.set(pool.name, pool);
    state.rebuild();
    const answerer = new PoolAnswerer(() => state.snapshot, geoip, new GeoMetrics(registry), logger);
    const handle = createHandler({ catalog, chaos: { nodeId: 'p' }, metrics: new DnsMetrics(registry), logger, geo: answerer });

    const located = locatedNetworks(10_000, dbipLocator()).networks.map((octets) => ecsQuery(GEO_NAME, octets));
    // one message rewritten before each query (its last three octets are the ECS address): a million prebuilt
    // messages would make the garbage collector's work this harness's rather than the server's
    const fresh = distinctNetworkNumbers(ROUNDS + 200_000);
    const message = ecsQuery(GEO_NAME, [0, 0, 0]);
    const statics = readFileSync(writeQueries(dir, 'static', 10_000, 0), 'utf8').trim().split('\n').map((line) => {
      const [name, type] = line.split(' ');
      return Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), textToWire(name), Buffer.from([0, type === 'A' ? 1 : 28, 0, 1])]);
    });
    const next: Record<string, (i: number) => Buffer> = {
      static: (i) => statics[i % statics.length],
      cycling: (i) => located[i % located.length],
      fresh: (i) => {
        message.writeUIntBE(fresh[i], message.length - 3, 3);
        return message;
      },
    };
    // PROFILE_MIX=cycling or fresh runs one mix alone, for a profile of that path only
    const only = process.env.PROFILE_MIX;
    // static last, so the geo mixes run on code that has seen only them
    const mixes = ([
      ['10,000 networks', 'cycling'],
      ['new /24 each', 'fresh'],
      ['static', 'static'],
    ] as const).filter(([, id]) => !only || only === id || id === 'static');
    const figures: [string, number][] = [];
    for (const [mix, id] of mixes) {
      const query = next[id];
      let i = 0;
      for (; i < 200_000; i++) handle(query(i), 'udp', '127.0.0.1'); // warm-up
      // CPU time rather than wall time: other processes sharing the machine then disturb the figure less
      const started = process.cpuUsage();
      for (const end = i + ROUNDS; i < end; i++) handle(query(i), 'udp', '127.0.0.1');
      const used = process.cpuUsage(started);
      const ns = ((used.user + used.system) * 1000) / ROUNDS;
      figures.push([mix, ns]);
    }
    const reference = figures[figures.length - 1][1];
    for (const [mix, ns] of figures) {
      process.stdout.write(`${mix.padEnd(16)} ${ns.toFixed(0)} ns/query (${Math.round(1e9 / ns)} per second of one core; ${(ns / reference).toFixed(2)} × static)\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`geo profile failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
