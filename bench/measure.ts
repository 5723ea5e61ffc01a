// One bench row: a dnsperf run against a server, with the server's CPU (its process and any DNS workers) over the
// run. run.ts, geo.ts and geo-only.ts all measure through this, so their rows are sized and counted alike.

import { readFileSync } from 'node:fs';
import { cpuSeconds } from './cpu.js';
import { runDnsperf, type PerfResult } from './dnsperf.js';
import type { BenchServer } from './servers.js';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/** What a peak run is sized for: about SECONDS long for a server near Node's limit (knotd finishes sooner). */
export const PEAK_QPS_GUESS = 100_000;

export interface Row {
  server: string;
  mix: string;
  result: PerfResult;
  cpuPercent: number;
}

export interface MeasureOptions {
  maxQps?: number;
  percentiles?: boolean;
  binary?: boolean;
  pin?: boolean;
}

/** Queries in a dnsperf input file: lines of text, or length-prefixed messages with -B. */
function countQueries(file: string, binary: boolean): number {
  const data = readFileSync(file);
  if (!binary) return data.toString('latin1').split('\n').filter((l) => l.trim().length > 0).length;
  let count = 0;
  for (let at = 0; at + 2 <= data.length; at += 2 + data.readUInt16BE(at)) count++;
  return count;
}

export async function measure(server: BenchServer, mix: string, file: string, options: MeasureOptions = {}): Promise<Row> {
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
}
