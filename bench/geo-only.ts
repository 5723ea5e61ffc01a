// Just the geo part of `npm run bench` and the reference it is compared with (the bare Node responder, static):
//   BENCH_SECONDS=5 node dist-bench/bench/geo-only.js
// It prints the rows and the ratios; bench/results/latest.md is left to the full run.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuSeconds } from './cpu.js';
import { BENCH_ZONE, writeBenchZone, writeQueries } from './data.js';
import { runDnsperf } from './dnsperf.js';
import { geoScenario, PEAK_QPS_GUESS, type Measure } from './geo.js';
import { startEdgedns, startNodeResponder } from './servers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

/** Queries in a dnsperf input file: lines of text, or length-prefixed messages with -B (as run.ts counts them). */
function countQueries(file: string, binary: boolean): number {
  const data = readFileSync(file);
  if (!binary) return data.toString('latin1').split('\n').filter((l) => l.trim().length > 0).length;
  let count = 0;
  for (let at = 0; at + 2 <= data.length; at += 2 + data.readUInt16BE(at)) count++;
  return count;
}

// run.ts's measure, with the same run sizing
const measure: Measure = async (server, mix, file, options = {}) => {
  const pids = server.pids();
  const cpu = (): number => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const cpuBefore = cpu();
  const started = process.hrtime.bigint();
  const fileQueries = countQueries(file, options.binary ?? false);
  const result = await runDnsperf({ port: server.port, file, fileQueries, seconds: SECONDS, expectedQps: PEAK_QPS_GUESS, ...options });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const row = { server: server.name, mix, result, cpuPercent: ((cpu() - cpuBefore) / wall) * 100 };
  process.stdout.write(`  ${row.server.padEnd(10)} ${mix.padEnd(28)} ${Math.round(result.qps).toString().padStart(7)} q/s  avg ${result.avgLatencyMs.toFixed(3)} ms  lost ${result.lost} of ${result.sent}  CPU ${row.cpuPercent.toFixed(0)}%\n`);
  return row;
};

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
    const geo = await geoScenario(work, measure);
    for (const [label, qps] of geo?.peaks ?? []) process.stdout.write(`${label}: ${Math.round(qps)} q/s = ${(qps / reference).toFixed(2)} × node-limit static (target 0.75)\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`geo bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
