// Runs dnsperf against one server and reads its statistics; a verbose run gives per-query latencies for p99.
//
// A run is bounded by a number of passes over the query file (-n), not only by time: dnsperf stops sending at a
// time limit (-l) and counts every query still in flight as lost, which made a perfect server show ~250 "lost"
// queries (its -q window) per run. With -n it sends a fixed number and waits for every answer or its timeout, so
// "lost" means lost. The time limit stays as a safety bound.

import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pinned } from './cpu.js';

export interface PerfResult {
  qps: number;
  avgLatencyMs: number;
  lost: number;
  sent: number;
  p99Ms?: number;
}

export interface PerfOptions {
  port: number;
  file: string;
  /** Queries in `file`. */
  fileQueries: number;
  /** About how long the run should take; it sends `seconds × expectedQps` queries (whole passes of the file). */
  seconds: number;
  /** Rate the run is sized for: the -Q limit when given, else a guess at the server's peak. */
  expectedQps: number;
  /** Limit the rate (-Q); unlimited when absent. */
  maxQps?: number;
  /** Read `file` as length-prefixed wire messages (-B), for queries dnsperf cannot write itself (per-query ECS). */
  binary?: boolean;
  /** Collect per-query latencies (-v) for the 99th percentile. */
  percentiles?: boolean;
  /** Pin dnsperf to the client CPU (default true). */
  pin?: boolean;
}

/** The 99th percentile of per-query latencies in seconds, as milliseconds. */
function p99Ms(latencies: number[]): number | undefined {
  if (latencies.length === 0) return undefined;
  const sorted = Float64Array.from(latencies).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] * 1000;
}

export async function runDnsperf(options: PerfOptions): Promise<PerfResult> {
  const passes = Math.max(1, Math.ceil((options.seconds * (options.maxQps ?? options.expectedQps)) / options.fileQueries));
  const args = ['-s', '127.0.0.1', '-p', String(options.port), '-d', options.file, '-n', String(passes), '-l', String(options.seconds * 4), '-c', '8', '-q', '256', '-t', '2'];
  if (options.maxQps) args.push('-Q', String(Math.round(options.maxQps)));
  if (options.binary) args.push('-B');
  if (options.percentiles) args.push('-v');
  const [command, commandArgs] = options.pin === false ? ['dnsperf', args] : pinned('client', 'dnsperf', args);
  // -v writes a line per query: to a file, so neither a pipe nor this process's parsing slows dnsperf down
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dnsperf-'));
  const outFile = path.join(dir, 'out.txt');
  const out = openSync(outFile, 'w');
  try {
    const summary = await new Promise<string>((resolve, reject) => {
      const child = spawn(command, commandArgs, { stdio: ['ignore', out, 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), (options.seconds * 4 + 30) * 1000);
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(stderr);
      });
    });
    closeSync(out);
    // One pass over stdout: -v lines (`> NOERROR name type latency`) give the latencies, the rest the statistics.
    let text = summary;
    const latencies: number[] = [];
    const lines = readline.createInterface({ input: createReadStream(outFile, { encoding: 'latin1' }), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.startsWith('> ')) text += line + '\n';
      else {
        const latency = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (Number.isFinite(latency)) latencies.push(latency);
      }
    }
    const number = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
    const qps = number(/Queries per second:\s+([\d.]+)/);
    if (!Number.isFinite(qps)) throw new Error(`dnsperf printed no statistics:\n${text.slice(0, 4000)}`);
    return {
      qps,
      avgLatencyMs: number(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
      lost: number(/Queries lost:\s+(\d+)/),
      sent: number(/Queries sent:\s+(\d+)/),
      p99Ms: p99Ms(latencies),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
