// The edgedns process the attack benches aim at: the sample zone, its own process (so the attacker's event loop is
// not the server's; not pinned to a CPU, since the attackers share the machine), flags as given, and its /metrics.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import { startEdgedns, type BenchServer } from './servers.js';

export interface AttackTarget {
  server: BenchServer;
  port: number;
  /** Sum of the samples of `name` whose labels include `labels`, from /metrics now. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export async function startTarget(flags: string[]): Promise<AttackTarget> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgedns-attack-'));
  const apiPort = await freePort();
  const server = await startEdgedns('example.com.', [path.resolve('zones/example.com.zone')], dir, ['--api', `127.0.0.1:${apiPort}`, '--geoip', 'none', ...flags], {}, false);
  return {
    server,
    port: server.port,
    metric: async (name, labels = {}) => {
      const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
      let total = 0;
      for (const line of text.split('\n')) {
        const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) total += Number(m[3]);
      }
      return total;
    },
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
