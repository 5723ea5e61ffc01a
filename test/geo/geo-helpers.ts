// What the geo tests share: the test GeoIP database built from geoip/test-networks.csv, and health servers on
// loopback that a test can stop and start again on the same port.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { buildMmdbFromCsv, type MmdbLayout } from '../../geoip/mmdb-build.js';
import type { TestNodeOptions } from '../helpers/node.js';
import { freePort } from '../helpers/ports.js';

/** Tests run from the repository root (npm test, npx tap). */
export const CSV_PATH = path.resolve('geoip/test-networks.csv');

export async function writeTestDb(dir: string, layout: MmdbLayout = 'geolite2'): Promise<string> {
  const file = path.join(dir, `test-${layout}.mmdb`);
  await writeFile(file, buildMmdbFromCsv(readFileSync(CSV_PATH, 'utf8'), layout));
  return file;
}

/** A node for the geo tests (startTestNode): one zone, the test GeoIP database, probes every 0.2 s. */
export function geoNodeOptions(options: { zoneName: string; zone: string; geoip: string }): TestNodeOptions {
  return {
    zoneTexts: { [`${options.zoneName}.zone`]: options.zone },
    nodeId: 'node-a',
    flags: { geoip: options.geoip, 'probe-interval': '0.2', 'probe-timeout': '0.5' },
  };
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
