// The one way tests start an edgedns node: in this process, as `edgedns serve` wires it (src/node/node.ts), on
// loopback ports the OS picks, with a fresh data directory. API calls go in-process through fastify's inject()
// (no socket); DNS, the asset server and the API listen on 127.0.0.1 for the tests whose point is the wire. A node
// can be stopped and started again on the same ports and data, as an operator restarts the service.
// Tests about the `edgedns` process itself (exit codes, signals, --workers) use spawn-edgedns.ts instead.

import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { InjectOptions } from 'fastify';
import { pino } from 'pino';
import { resolveConfig, type Flags, type NodeConfig } from '../../src/node/config.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { listenPort } from './ports.js';

export interface TestNodeOptions {
  /** An existing zones directory (zone files, edges.json) the node imports at start, read only. */
  zonesDir?: string;
  /** Zone files copied into the node's own zones directory, imported at start. */
  zoneFiles?: string[];
  /** Files written into the zones directory by name: zone files, edges.json. */
  zoneTexts?: Record<string, string>;
  nodeId?: string;
  /** The address DNS and HTTPS listen on (a node of a test cluster on 127.0.0.2, say); default 127.0.0.1. */
  host?: string;
  /** The DNS port, when several nodes must share one (a CA asks every nameserver on one port); default any. */
  dnsPort?: number;
  /** The asset server's port, when something must name it before the node starts (an edge's health URL); default any. */
  httpPort?: number;
  /** The data directory, when it must be somewhere in particular (a small tmpfs); default a new one that close() removes. */
  dataDir?: string;
  /** Files copied into the data directory before the first start, by name: { 'secrets.key': FILE }. */
  dataFiles?: Record<string, string>;
  /** Any other `edgedns serve` setting by its flag name: { geoip: FILE, 'probe-interval': '0.2', couchdb: URL }. */
  flags?: Flags;
  /** pino level of the node's log, kept for logs(); default EDGEDNS_TEST_LOG or silent. */
  logLevel?: string;
}

/** An API response: status, body parsed as JSON when it is JSON (else the text), headers. */
export interface ApiResult {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever the route returned
  headers: Headers;
}

export interface ApiOptions {
  body?: unknown;
  /** The API key sent as X-API-Key: the node's admin key unless given; null sends none (nor does an X-API-Key in headers get replaced). */
  key?: string | null;
  headers?: Record<string, string>;
  /** The client address the API sees (its failure limiter, acme-dns allowfrom); default 127.0.0.1. */
  remoteAddress?: string;
}

export interface TestNode {
  /** The running node; throws while it is stopped. */
  readonly node: RunningNode;
  readonly dnsPort: number;
  readonly apiPort: number;
  /** The asset server (pages). */
  readonly httpPort: number;
  /** The node's --data directory (admin.key, snapshot, checkpoint). */
  readonly dataDir: string;
  /** The bootstrap admin key the node wrote to <data>/admin.key. */
  readonly adminKey: string;
  /** One API request in-process (inject); the body is parsed as JSON when it is JSON. */
  api(method: string, url: string, options?: ApiOptions): Promise<ApiResult>;
  /** A metric's value from the node's registry ("name" or 'name{label="v"}'); undefined when absent. */
  metric(name: string): Promise<number | undefined>;
  /**
   * The sum of a metric's samples whose labels include `labels` (all of them when none are given): 0 when none
   * match; throws when the registry has no such metric.
   */
  metricTotal(name: string, labels?: Record<string, string>): Promise<number>;
  /** What the node logged (JSON lines) at options.logLevel. */
  logs(): string;
  /** The same, one parsed object per line. */
  logLines(): Record<string, unknown>[];
  /** Stops the node, keeping its data directory. */
  stop(): Promise<void>;
  /** Starts it again (stopping it first if it runs) on the same ports and data directory; a failed start leaves it stopped. */
  restart(): Promise<void>;
  /** Stops it and removes its directories. */
  close(): Promise<void>;
}

/** Ports are picked at random (ports.ts, listenPort), so one may be taken: try again then. */
const START_ATTEMPTS = 20;

export async function startTestNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'edgedns-node-'));
  const zonesDir = path.join(root, 'zones');
  const dataDir = options.dataDir ?? path.join(root, 'data');
  await mkdir(zonesDir);
  for (const file of options.zoneFiles ?? []) await copyFile(file, path.join(zonesDir, path.basename(file)));
  for (const [name, text] of Object.entries(options.zoneTexts ?? {})) await writeFile(path.join(zonesDir, name), text);
  await mkdir(dataDir, { recursive: true });
  for (const [name, file] of Object.entries(options.dataFiles ?? {})) await copyFile(file, path.join(dataDir, name));

  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logText += chunk.toString();
      if (process.env.EDGEDNS_TEST_LOG) process.stderr.write(chunk);
      done();
    },
  });
  const logger = pino({ level: options.logLevel ?? process.env.EDGEDNS_TEST_LOG ?? 'silent' }, sink);
  const host = options.host ?? '127.0.0.1';
  const configAt = (ports: { dns: number; api: number; http: number; https: number }): NodeConfig =>
    resolveConfig(
      {
        dns: `${host}:${ports.dns}`,
        api: `127.0.0.1:${ports.api}`,
        http: `127.0.0.1:${ports.http}`,
        https: `${host}:${ports.https}`,
        data: dataDir,
        zones: options.zonesDir ?? zonesDir,
        'node-id': options.nodeId ?? 'test-node',
        // No test orders from Let's Encrypt: a test that orders names its CA (pebble) in flags.
        'acme-directory': 'none',
        ...options.flags,
      },
      {},
    );

  let node: RunningNode | undefined;
  for (let attempt = 1; node === undefined; attempt++) {
    try {
      node = await startNode(configAt({ dns: options.dnsPort ?? listenPort(), api: listenPort(), http: options.httpPort ?? listenPort(), https: listenPort() }), logger);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= START_ATTEMPTS) {
        await rm(root, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const ports = { dns: node.dnsUdp.port, api: node.api.port, http: node.pages.port, https: node.pages.https?.port ?? 0 };
  const adminKey = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();

  const running = (): RunningNode => {
    if (!node) throw new Error('the node is stopped');
    return node;
  };
  const stop = async (): Promise<void> => {
    const current = node;
    node = undefined;
    await current?.close();
  };
  return {
    get node() {
      return running();
    },
    dnsPort: ports.dns,
    apiPort: ports.api,
    httpPort: ports.http,
    dataDir,
    adminKey,
    async api(method, url, request = {}) {
      const headers: Record<string, string> = { ...request.headers };
      const key = request.key === undefined ? adminKey : request.key;
      if (key !== null) headers['x-api-key'] ??= key;
      let payload: string | Buffer | undefined;
      if (request.body !== undefined) {
        payload = typeof request.body === 'string' || Buffer.isBuffer(request.body) ? request.body : JSON.stringify(request.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await running().api.app.inject({ method: method as InjectOptions['method'], url, headers, payload, ...(request.remoteAddress ? { remoteAddress: request.remoteAddress } : {}) });
      let body: unknown = response.body;
      try {
        body = response.body === '' ? undefined : JSON.parse(response.body);
      } catch {
        // not JSON: keep the text
      }
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : String(value));
      }
      return { status: response.statusCode, body, headers: responseHeaders };
    },
    async metric(name) {
      const text = await running().registry.metrics();
      const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    },
    async metricTotal(name, labels = {}) {
      const metric = (await running().registry.getMetricsAsJSON()).find((m) => m.name === name);
      if (!metric) throw new Error(`the node has no metric ${name}`);
      let total = 0;
      for (const value of metric.values) {
        const sample = value.labels as Record<string, string | number>;
        if (Object.entries(labels).every(([k, v]) => String(sample[k]) === v)) total += value.value;
      }
      return total;
    },
    logs: () => logText,
    logLines: () => logText.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>),
    stop,
    async restart() {
      await stop();
      node = await startNode(configAt(ports), logger);
    },
    async close() {
      await stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
