// Just the geo part of `npm run bench` and the reference it is compared with (the bare Node responder, static):
//   BENCH_SECONDS=5 node dist-bench/bench/geo-only.js
// It prints the rows and the ratios; bench/results/latest.md is left to the full run.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_ZONE, writeBenchZone, writeQueries } from './data.js';
import { geoScenario } from './geo.js';
import { measure } from './measure.js';
import { startEdgedns, startNodeResponder } from './servers.js';

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'edgedns-geo-bench-'));
  try {
    const zoneFile = writeBenchZone(work);
    const staticQueries = writeQueries(work, 'static', 20_000, 0);
    const node = await startNodeResponder(BENCH_ZONE, zoneFile);
    let reference: number;
    try {
      reference = (await measure(node, 'static', staticQueries)).result.qps;
    } finally {
      await node.stop();
    }
    // edgedns's own static answers, to tell the cost of geo from that of the rest of the server (BENCH_GEO_STATIC=0 skips)
    if (process.env.BENCH_GEO_STATIC !== '0') {
      const edgedns = await startEdgedns(BENCH_ZONE, [zoneFile], work);
      try {
        const qps = (await measure(edgedns, 'static', staticQueries)).result.qps;
        process.stdout.write(`edgedns static: ${(qps / reference).toFixed(2)} × node-limit static\n`);
      } finally {
        await edgedns.stop();
      }
    }
    const geo = await geoScenario(work);
    for (const [label, qps] of geo?.peaks ?? []) process.stdout.write(`${label}: ${Math.round(qps)} q/s = ${(qps / reference).toFixed(2)} × node-limit static (target 0.75)\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`geo bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
