// What the fault suite shares: a real edgedns node in this process whose ports and data directory survive stop()
// and start() (so a test restarts it as an operator restarts the service), the cluster command run as an operator
// would on one machine, and small readers for what a user checks: answers, health, metrics, pages.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { parseArgs } from '../../src/cli/args.js';
import { clusterCommand } from '../../src/cli/cluster-commands.js';
import { resolveConfig, type NodeConfig } from '../../src/node/config.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { decodeMessage } from '../helpers/decode.js';
import { dig } from '../helpers/dig.js';
import { udpExchange } from '../helpers/dns-socket.js';
import { buildQuery } from '../helpers/wire.js';
import { http, type HttpResult } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';

export interface FaultNodeOptions {
  nodeId: string;
  /** CouchDB URL; the embedded store when unset. */
  couchdb?: string;
  prefix?: string;
  /** Zone files to seed, file name → text. */
  zones?: Record<string, string>;
  /** edges.json to seed next to the zones. */
  edges?: unknown;
  /** More serve flags (without "--"). */
  flags?: Record<string, string>;
  /** Where the data directory goes (a tmpfs in the disk-full tests); a new temporary one when unset. */
  dataDir?: string;
  /** Ports chosen beforehand, e.g. so edges can name a node's asset server before it starts. */
  httpPort?: number;
  /** false: create it stopped (start() later). */
  start?: boolean;
}

export interface FaultNode {
  nodeId: string;
  dataDir: string;
  dnsPort: number;
  apiPort: number;
  httpPort: number;
  config: NodeConfig;
  readonly node: RunningNode;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
  /** The node's bootstrap admin key. */
  key(): Promise<string>;
  /** Every answer record's data, or [rcode] when there is none. */
  ask(name: string, type?: string): Promise<string[]>;
  /** CHAOS TXT health.edgedns. */
  health(): Promise<string>;
  healthz(): Promise<HttpResult>;
  pagesHealthz(): Promise<{ status: number; body: string }>;
  page(host: string, urlPath: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>;
  api(method: string, urlPath: string, body?: unknown, key?: string): Promise<HttpResult>;
  metrics(): Promise<string>;
  /** The value of one series ("name" or "name{label=\"v\",…}" with labels in the order prom-client prints them). */
  metric(series: string): Promise<number | undefined>;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
let queryId = 1;
const nextId = (): number => (queryId = (queryId % 65_535) + 1);

export const logger = pino({ level: process.env.EDGEDNS_TEST_LOG ?? 'silent' });

export async function faultNode(options: FaultNodeOptions): Promise<FaultNode> {
  const root = await mkdtemp(path.join(os.tmpdir(), `edgedns-fault-${options.nodeId}-`));
  const zonesDir = path.join(root, 'zones');
  await mkdir(zonesDir);
  for (const [name, text] of Object.entries(options.zones ?? {})) await writeFile(path.join(zonesDir, name), text);
  if (options.edges !== undefined) await writeFile(path.join(zonesDir, 'edges.json'), JSON.stringify(options.edges));
  const dataDir = options.dataDir ?? path.join(root, 'data');
  const dnsPort = await freePort();
  const apiPort = await freePort();
  const httpPort = options.httpPort ?? (await freePort());
  const config = resolveConfig(
    {
      dns: `127.0.0.1:${dnsPort}`,
      api: `127.0.0.1:${apiPort}`,
      http: `127.0.0.1:${httpPort}`,
      data: dataDir,
      zones: zonesDir,
      'node-id': options.nodeId,
      geoip: 'none',
      ...(options.couchdb ? { couchdb: options.couchdb, 'db-prefix': options.prefix ?? 'edgedns_' } : {}),
      ...(options.flags ?? {}),
    },
    {},
  );
  let node: RunningNode | undefined;
  const running = (): RunningNode => {
    if (!node) throw new Error(`node ${options.nodeId} is stopped`);
    return node;
  };
  const self: FaultNode = {
    nodeId: options.nodeId,
    dataDir,
    dnsPort,
    apiPort,
    httpPort,
    config,
    get node() {
      return running();
    },
    get running() {
      return node !== undefined;
    },
    async start() {
      if (node) return;
      node = await startNode(config, logger.child({ node: options.nodeId }));
    },
    async stop() {
      const current = node;
      node = undefined;
      await current?.close();
    },
    async destroy() {
      await self.stop();
      await rm(root, { recursive: true, force: true });
    },
    async key() {
      return (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    },
    async ask(name, type = 'A') {
      if (type === 'A') {
        // Polled often by the cluster tests: one datagram from this process, not a dig process per question.
        const reply = decodeMessage(await udpExchange(dnsPort, buildQuery(name, 1, { id: nextId() }), 1000));
        const answers = reply.answer.filter((rr) => rr.type === 'A').map((rr) => [...rr.rdata].join('.'));
        return answers.length > 0 ? answers : [RCODES[reply.header.rcode] ?? String(reply.header.rcode)];
      }
      const reply = await dig(dnsPort, name, type, { timeoutSeconds: 1 });
      return reply.answer.length > 0 ? reply.answer.filter((rr) => rr.type === type).map((rr) => rr.data) : [reply.rcode];
    },
    async health() {
      const reply = decodeMessage(await udpExchange(dnsPort, buildQuery('health.edgedns.', 16, { id: nextId(), qclass: 3 }), 1000));
      const txt = reply.answer.find((rr) => rr.type === 'TXT');
      return txt ? txt.rdata.toString('latin1', 1, 1 + txt.rdata[0]) : (RCODES[reply.header.rcode] ?? "no answer");
    },
    healthz: () => http(apiPort, 'GET', '/healthz'),
    async pagesHealthz() {
      const { status, body } = await self.page('localhost', '/healthz');
      return { status, body };
    },
    page: (host, urlPath) => getPage(httpPort, host, urlPath),
    async api(method, urlPath, body, key) {
      return http(apiPort, method, urlPath, { key: key ?? (await self.key()), body });
    },
    metrics: () => running().registry.metrics(),
    async metric(series) {
      const text = await self.metrics();
      const escaped = series.replace(/[{}"=\\.+*?()[\]|^$]/g, (c) => `\\${c}`);
      const m = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    },
  };
  if (options.start !== false) await self.start();
  return self;
}

/** A GET to the asset server with any Host header (fetch will not set Host). */
export function getPage(port: number, host: string, urlPath: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: urlPath, headers: { host }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}${urlPath} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Runs `edgedns cluster ...` against one CouchDB, as an operator on that machine would; returns what it prints. */
export async function cluster(couchdb: string, ...argv: string[]): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await clusterCommand(parseArgs(['cluster', ...argv, '--couchdb', couchdb], new Set(['help'])), out);
  return text;
}

/** Polls `check` every 50 ms until it holds or `ms` pass: the elapsed ms, or -1 on timeout. Errors count as false. */
export async function within(ms: number, check: () => Promise<boolean> | boolean): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < 100_000 && Date.now() - started < ms; i++) {
    if (await Promise.resolve(check()).catch(() => false)) return Date.now() - started;
    await sleep(50);
  }
  return -1;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A zone whose apex and www answer from pool "web". */
export function geoZone(apex: string): string {
  return [`$ORIGIN ${apex}`, '$TTL 60', '@ IN SOA ns1 hostmaster 1 7200 1800 1209600 300', '  IN NS ns1', 'ns1 IN A 192.0.2.53', '@ 30 IN POOL web', 'www 30 IN POOL web', 'mail IN A 192.0.2.25', ''].join('\n');
}

/** Edges 127.0.0.<i+1>, each checked at a node's asset server /healthz, and pool "web" of all of them. */
export function edgesFor(httpPorts: number[]): unknown {
  const edges = httpPorts.map((port, i) => ({
    name: `e${i + 1}`,
    ipv4: [`127.0.0.${i + 1}`],
    latitude: 50 + i,
    longitude: 5 + i,
    check: { type: 'http', url: `http://127.0.0.1:${port}/healthz` },
  }));
  return { edges, pools: [{ name: 'web', members: edges.map((e) => e.name), count: 1, ttl: 30 }] };
}

export interface TcpProxy {
  url: string;
  /** Drops every connection and refuses new ones: a partition between whoever uses the proxy and the target. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on loopback to a local port: peers reach a database through it, so a test can cut just that path. */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        // Either side going away takes the other with it, as one TCP connection would.
        for (const [socket, other] of [
          [client, upstream],
          [upstream, client],
        ] as const) {
          sockets.add(socket);
          socket.on('close', () => {
            sockets.delete(socket);
            other.destroy();
          });
          socket.on('error', () => other.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
      server = s;
    });
  const cut = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return { url: `http://127.0.0.1:${port}/`, cut, heal: listen, close: cut };
}

/** pouchdb-servers started two at a time: a busy two-core machine fails to start seven at once in time. */
export async function startServers(count: number, onDisk: (i: number) => boolean = () => false): Promise<PouchServer[]> {
  const servers: PouchServer[] = [];
  for (let i = 0; i < count; i += 2) {
    const batch = [i, i + 1].filter((j) => j < count);
    servers.push(...(await Promise.all(batch.map((j) => startPouchServer({ inMemory: !onDisk(j) })))));
  }
  return servers;
}
