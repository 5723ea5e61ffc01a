// Runs dnsperf against one server and reads its statistics; a verbose run gives per-query latencies for p99.

import { spawn } from 'node:child_process';
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
  seconds: number;
  /** Limit the rate (-Q); unlimited when absent. */
  maxQps?: number;
  /** Read `file` as length-prefixed wire messages (-B), for queries dnsperf cannot write itself (per-query ECS). */
  binary?: boolean;
  /** Collect per-query latencies (-v) for the 99th percentile. */
  percentiles?: boolean;
}

export function runDnsperf(options: PerfOptions): Promise<PerfResult> {
  const args = ['-s', '127.0.0.1', '-p', String(options.port), '-d', options.file, '-l', String(options.seconds), '-c', '8', '-q', '256', '-t', '2'];
  if (options.maxQps) args.push('-Q', String(Math.round(options.maxQps)));
  if (options.binary) args.push('-B');
  if (options.percentiles) args.push('-v');
  const [command, commandArgs] = pinned('client', 'dnsperf', args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let summary = '';
    const latencies: number[] = [];
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('latin1');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('> ')) {
          const latency = Number(line.slice(line.lastIndexOf(' ') + 1));
          if (Number.isFinite(latency)) latencies.push(latency);
        } else summary += line + '\n';
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (summary += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const number = (re: RegExp): number => Number(re.exec(summary)?.[1] ?? NaN);
      const qps = number(/Queries per second:\s+([\d.]+)/);
      if (!Number.isFinite(qps)) return reject(new Error(`dnsperf printed no statistics:\n${summary}`));
      let p99Ms: number | undefined;
      if (latencies.length > 0) {
        latencies.sort((a, b) => a - b);
        p99Ms = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] * 1000;
      }
      resolve({
        qps,
        avgLatencyMs: number(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
        lost: number(/Queries lost:\s+(\d+)/),
        sent: number(/Queries sent:\s+(\d+)/),
        p99Ms,
      });
    });
  });
}
