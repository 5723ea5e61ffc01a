// The geo scenario of the benchmark: edgedns answering a pool of 8 edges spread over the world (DB-IP City Lite,
// loaded before DNS starts) for A queries carrying ECS, from 10,000 client /24s on six continents cycling (GeoIP and
// decision caches warm), then from a new /24 on every query (both caches miss every time).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startEdgedns } from './servers.js';
import { measure, PEAK_QPS_GUESS, SECONDS, type Row } from './measure.js';
import { checkGeoAnswers } from './geo-check.js';
import { dbipLocator, distinctNetworkNumbers, GEO_NAME, GEO_ZONE, locatedNetworks, writeBinaryQueries, writeGeoZone } from './geo-data.js';

export interface GeoRows {
  rows: Row[];
  peaks: [string, number][];
}

const NETWORKS = 10_000;

export async function geoScenario(work: string): Promise<GeoRows | undefined> {
  const dir = path.join(work, 'geo');
  mkdirSync(dir, { recursive: true });
  const { zoneFile, edgesFile } = writeGeoZone(dir);
  const started = Date.now();
  const { networks, perContinent, examples } = locatedNetworks(NETWORKS, dbipLocator());
  const cycling = writeBinaryQueries(path.join(dir, 'ecs-10k.bin'), GEO_NAME, networks);
  // A run sends whole passes of SECONDS × PEAK_QPS_GUESS queries (measure.ts): a file of that many distinct /24s is
  // one pass, so no network comes round again, whatever rate the server reaches.
  const fresh = distinctNetworkNumbers(Math.ceil(SECONDS * PEAK_QPS_GUESS));
  const freshFile = writeBinaryQueries(path.join(dir, 'ecs-new24.bin'), GEO_NAME, fresh);
  const mix = Object.entries(perContinent).map(([c, n]) => `${c} ${n}`).join(', ');
  process.stdout.write(`  geo: ${NETWORKS} located /24s (${mix}); ${fresh.length} distinct /24s (one pass); ${Date.now() - started} ms\n`);

  const server = await startEdgedns(GEO_ZONE, [zoneFile, edgesFile], work);
  try {
    process.stdout.write(`  geo check: ${await checkGeoAnswers(server.port, GEO_NAME, Object.values(examples), 4)}\n`);
    const warm = await measure(server, 'geo ECS, 10,000 networks', cycling, { binary: true });
    const cold = await measure(server, 'geo ECS, new /24 per query', freshFile, { binary: true });
    if (cold.result.sent > fresh.length) process.stdout.write(`  geo: ${cold.result.sent} queries sent from a file of ${fresh.length}: some /24s repeated (run.ts sizes runs differently from geo.ts)\n`);
    return {
      rows: [warm, cold],
      peaks: [
        ['geo answers with ECS (10,000 networks)', warm.result.qps],
        ['geo answers with ECS (new /24 each query)', cold.result.qps],
      ],
    };
  } finally {
    await server.stop();
  }
}
