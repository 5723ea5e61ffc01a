// The geo scenario of the benchmark: edgedns answering a pool of 8 edges for queries carrying ECS from many client
// networks. It runs once the geo routing is in place (src/geo); until then the benchmark says it was skipped.

import type { BenchServer } from './servers.js';
import type { PerfResult } from './dnsperf.js';

export interface GeoRows {
  rows: { server: string; mix: string; result: PerfResult; cpuPercent: number }[];
  peaks: [string, number][];
}

export type Measure = (server: BenchServer, mix: string, file: string, options?: { maxQps?: number; percentiles?: boolean; binary?: boolean }) => Promise<{ server: string; mix: string; result: PerfResult; cpuPercent: number }>;

export async function geoScenario(_work: string, _measure: Measure): Promise<GeoRows | undefined> {
  process.stdout.write('  geo scenario: skipped (geo routing is not built yet)\n');
  return undefined;
}
