// What the geo tests share: the test GeoIP database built from geoip/test-networks.csv, health servers on loopback
// that a test can stop and start again on the same port, an edgedns node with geo flags, and API calls.

import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { resolveConfig } from '../../src/node/config.js';
import { buildMmdbFromCsv, type MmdbLayout } from '../../geoip/mmdb-build.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { freePort } from '../helpers/ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CSV_PATH = path.join(here, '..', '..', 'geoip', 'test-networks.csv');

export async function writeTestDb(dir: string, layout: MmdbLayout = 'geolite2'): Promise<string> {
  const file = path.join(dir, `test-${layout}.mmdb`);
  await writeFile(file, buildMmdbFromCsv(readFileSync(CSV_PATH, 'utf8'), layout));
  return file;
}

/** A /healthz server on 127.0.0.1 that can go away and come back on the same port. */
export class HealthServer {
  private server: http.Server | undefined;
  hits = 0;
  /** The User-Agent of the last request. */
  lastUserAgent: string | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<HealthServer> {
    const s = new HealthServer(await freePort());
    await s.up();
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/healthz`;
  }

  up(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = http.createServer((req, res) => {
      this.hits++;
      this.lastUserAgent = req.headers['user-agent'];
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end('ok\n');
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.port }, () => resolve());
    });
  }

  down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
}

export interface GeoNode {
  node: RunningNode;
  dnsPort: number;
  apiPort: number;
  dataDir: string;
  api<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startGeoNode(options: { zone: string; zoneName: string; geoip: string; probeInterval?: string; probeTimeout?: string; nodeId?: string }): Promise<GeoNode> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-geo-'));
  const zonesDir = path.join(dataDir, 'zones');
  await mkdir(zonesDir);
  await writeFile(path.join(zonesDir, `${options.zoneName}.zone`), options.zone);
  const dnsPort = await freePort();
  const config = resolveConfig(
    {
      dns: `127.0.0.1:${dnsPort}`,
      api: '127.0.0.1:0',
      http: '127.0.0.1:0',
      data: path.join(dataDir, 'data'),
      zones: zonesDir,
      'node-id': options.nodeId ?? 'node-a',
      geoip: options.geoip,
      'probe-interval': options.probeInterval ?? '0.2',
      'probe-timeout': options.probeTimeout ?? '0.5',
    },
    {},
  );
  const node = await startNode(config, pino({ level: process.env.EDGEDNS_TEST_LOG ?? 'silent' }));
  const key = (await readFile(path.join(dataDir, 'data', 'admin.key'), 'utf8')).trim();
  return {
    node,
    dnsPort: node.dnsUdp.port,
    apiPort: node.api.port,
    dataDir,
    async api<T>(method: string, url: string, body?: unknown) {
      const response = await fetch(`http://127.0.0.1:${node.api.port}${url}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async stop() {
      await node.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every `everyMs` until it returns a value, at most `maxMs`; undefined when time ran out. */
export async function waitUntil<T>(check: () => Promise<T | undefined>, maxMs: number, everyMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + maxMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return undefined;
}
