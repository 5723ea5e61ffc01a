// A real edgedns node in this process, like test/helpers/edgedns.ts, with any extra `serve` flags (the DNS
// hardening tests set TCP caps and rate limits), and the lines it logged so tests can check what it told operators.

import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { resolveConfig, type Flags } from '../../src/node/config.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { freePort } from '../helpers/ports.js';

export interface NodeWithFlags {
  dnsPort: number;
  node: RunningNode;
  /** JSON log lines written so far (warn and above). */
  logs(): Record<string, unknown>[];
  /** The value of one sample in /metrics, e.g. metric('edgedns_dns_tcp_closed_total', { reason: 'idle-timeout' }). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export async function startNodeWithFlags(zoneFiles: string[], flags: Flags): Promise<NodeWithFlags> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-dns-test-'));
  const zonesDir = path.join(dataDir, 'zones');
  await mkdir(zonesDir);
  for (const file of zoneFiles) await copyFile(file, path.join(zonesDir, path.basename(file)));
  const dnsPort = await freePort();
  const config = resolveConfig(
    { dns: `127.0.0.1:${dnsPort}`, api: '127.0.0.1:0', http: '127.0.0.1:0', data: path.join(dataDir, 'data'), zones: zonesDir, 'node-id': 'dns-test', geoip: 'none', ...flags },
    {},
  );
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const node = await startNode(config, pino({ level: 'warn' }, sink));
  return {
    dnsPort: node.dnsUdp.port,
    node,
    logs: () => lines,
    metric: async (name, labels = {}) => {
      const metric = (await node.registry.getMetricsAsJSON()).find((m) => m.name === name);
      if (!metric) throw new Error(`no metric ${name}`);
      let total = 0;
      for (const value of metric.values) {
        const sample = value.labels as Record<string, string | number>;
        if (Object.entries(labels).every(([k, v]) => String(sample[k]) === v)) total += value.value;
      }
      return total;
    },
    stop: async () => {
      await node.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
