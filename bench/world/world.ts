// A simulated world on one machine: three edgedns nodes on their own loopback addresses (in this process), sharing
// their store through CouchDB-protocol servers (one shared, or one per node meshed with `cluster join`), the eight
// edges of model.ts as HTTP health endpoints on 127.0.1.x, and the test GeoIP database. Bounded and cleaned up:
// close() stops every node and server and removes every temporary directory, whatever happened before.

import dgram from 'node:dgram';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { buildMmdbFromCsv } from '../../geoip/mmdb-build.js';
import { parseCommandLine } from '../../src/cli/args.js';
import { clusterCommand, CLUSTER_OPTIONS } from '../../src/cli/cluster-commands.js';
import { resolveConfig } from '../../src/node/config.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { startPouchServer, type PouchServer } from '../../test/helpers/pouchdb-server.js';
import { readReply } from '../geo-check.js';
import { ecsQuery } from '../geo-data.js';
import { startEdgeServers, prng, type EdgeServer, type Jitter } from './edge-servers.js';
import { EDGES, GEOIP_CSV, NODES, noFaults, worldClients, type Faults, type WorldClient, type WorldNode } from './model.js';

export const ZONE = 'world.test.';
export const NAME = `www.${ZONE}`;
export const POOL = 'web';

export interface WorldOptions {
  probeIntervalS: number;
  probeTimeoutS: number;
  /** 'shared': one CouchDB-protocol server for all three nodes; 'mesh': one each, replicating both ways. */
  store: 'shared' | 'mesh';
  /** Pool fields beyond its members (e.g. a margin). */
  pool?: Record<string, unknown>;
  jitter?: Jitter;
  seed?: number;
}

export interface WorldNodeHandle {
  node: WorldNode;
  running: RunningNode;
  dnsPort: number;
  apiPort: number;
  key: string;
}

/** What each node answers each client network: node id → network → edge name ('-' for no answer). */
export type Answers = Map<string, Map<string, string>>;

const EDGE_BY_ADDRESS = new Map(EDGES.map((e) => [e.address, e.name]));

export class World {
  readonly faults: Faults = noFaults();
  readonly clients: WorldClient[] = worldClients();
  readonly nodes: WorldNodeHandle[] = [];
  jitter: Jitter | undefined;
  readonly random: () => number;
  private servers = new Map<string, EdgeServer>();
  private stores: PouchServer[] = [];
  private root = '';

  private constructor(readonly options: WorldOptions) {
    this.jitter = options.jitter;
    this.random = prng(options.seed ?? 1);
  }

  get intervalMs(): number {
    return this.options.probeIntervalS * 1000;
  }

  static async start(options: WorldOptions): Promise<World> {
    const world = new World(options);
    try {
      await world.build();
    } catch (err) {
      await world.close();
      throw err;
    }
    return world;
  }

  private async build(): Promise<void> {
    this.root = await mkdtemp(path.join(os.tmpdir(), 'edgedns-world-'));
    const geoip = path.join(this.root, 'world.mmdb');
    await writeFile(geoip, buildMmdbFromCsv(await readFile(GEOIP_CSV, 'utf8'), 'geolite2'));
    this.servers = await startEdgeServers(this);
    const storeCount = this.options.store === 'mesh' ? NODES.length : 1;
    this.stores = await Promise.all(Array.from({ length: storeCount }, () => startPouchServer({ inMemory: true })));
    if (this.options.store === 'mesh') {
      for (let i = 0; i < this.stores.length; i++) for (let j = i + 1; j < this.stores.length; j++) await this.join(this.stores[i], this.stores[j]);
    }
    // the first node imports the zone and seeds the edges and the pool; the others get them through the store
    const zones = path.join(this.root, 'zones');
    await mkdir(zones);
    await writeFile(path.join(zones, 'world.test.zone'), [`$ORIGIN ${ZONE}`, '@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60', '@ 3600 IN NS ns1', 'ns1 3600 IN A 192.0.2.53', `www 30 IN POOL ${POOL}`, ''].join('\n'));
    const edges = EDGES.map((e) => ({ name: e.name, ipv4: [e.address], latitude: e.latitude, longitude: e.longitude, check: (this.servers.get(e.name) as EdgeServer).url }));
    await writeFile(path.join(zones, 'edges.json'), JSON.stringify({ edges, pools: [{ name: POOL, members: EDGES.map((e) => e.name), ttl: 30, ...this.options.pool }] }));
    const logger = pino({ level: process.env.EDGEDNS_WORLD_LOG ?? 'silent' });
    for (const [i, node] of NODES.entries()) {
      const dataDir = path.join(this.root, node.id);
      const config = resolveConfig(
        {
          dns: `${node.address}:0`,
          api: `${node.address}:0`,
          http: `${node.address}:0`,
          https: `${node.address}:0`,
          data: dataDir,
          ...(i === 0 ? { zones } : {}),
          'node-id': node.id,
          geoip,
          'probe-interval': String(this.options.probeIntervalS),
          'probe-timeout': String(this.options.probeTimeoutS),
          location: `${node.latitude},${node.longitude}`,
          couchdb: this.stores[i % this.stores.length].url,
        },
        {},
      );
      const running = await startNode(config, logger.child({ node: node.id }));
      const key = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
      this.nodes.push({ node, running, dnsPort: running.dnsUdp.port, apiPort: running.api.port, key });
    }
  }

  private async join(a: PouchServer, b: PouchServer): Promise<void> {
    const out = new PassThrough();
    out.resume();
    await clusterCommand(parseCommandLine('cluster', ['join', b.url, '--couchdb', a.url], CLUSTER_OPTIONS), out);
  }

  server(edge: string): EdgeServer {
    const server = this.servers.get(edge);
    if (!server) throw new Error(`no edge ${edge}`);
    return server;
  }

  async killEdge(edge: string): Promise<void> {
    this.faults.dead.add(edge);
    await this.server(edge).close();
  }

  async reviveEdge(edge: string): Promise<void> {
    this.faults.dead.delete(edge);
    await this.server(edge).listen();
  }

  /** Every node asks every client network once (ECS /24), in parallel. */
  async answers(): Promise<Answers> {
    const out: Answers = new Map();
    await Promise.all(
      this.nodes.map(async (n) => {
        const row = new Map<string, string>();
        out.set(n.node.id, row);
        await Promise.all(this.clients.map(async (c) => row.set(c.network, await this.ask(n, c))));
      }),
    );
    return out;
  }

  /** The edge one node answers one client with ('-' for none, '?' when the node does not reply). */
  async ask(n: WorldNodeHandle, client: WorldClient): Promise<string> {
    const socket = dgram.createSocket('udp4');
    try {
      return await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('?'), 2000);
        socket.once('message', (msg) => {
          clearTimeout(timer);
          const addresses = readReply(msg).addresses;
          resolve(addresses.length === 0 ? '-' : addresses.map((a) => EDGE_BY_ADDRESS.get(a) ?? a).join(','));
        });
        socket.send(ecsQuery(NAME, client.octets), n.dnsPort, n.node.address);
      });
    } finally {
      socket.close();
    }
  }

  /** /v1/route on one node: the decision and its inputs. */
  async route<T = RouteExplanation>(n: WorldNodeHandle, client: WorldClient): Promise<T> {
    const query = new URLSearchParams({ name: NAME, client: client.network });
    const response = await fetch(`http://${n.node.address}:${n.apiPort}/v1/route?${query}`, { headers: { authorization: `Bearer ${n.key}` } });
    if (!response.ok) throw new Error(`/v1/route on ${n.node.id}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** Closes everything this world started, each step on its own so one failure does not leave the rest running. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>): Promise<void> => {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const n of this.nodes.splice(0)) await attempt(() => n.running.close());
    for (const s of this.servers.values()) await attempt(() => s.close());
    for (const s of this.stores.splice(0)) await attempt(() => s.destroy());
    if (this.root) await attempt(() => rm(this.root, { recursive: true, force: true }));
    if (errors.length > 0) throw errors[0];
  }
}

export interface RouteExplanation {
  answer: string[];
  decision: {
    chosen: string[];
    margin: { percent: number; ms: number; rounds: number };
    steering: { anchor: string; best: string; gainMs: number; neededMs: number; chosen: string }[];
    candidates: {
      edge: string;
      up: boolean;
      excluded?: string;
      distanceKm?: number;
      estimateMs?: number;
      penaltyMs?: number;
      geoScoreMs: number | null;
      scoreMs: number | null;
      votes: { node: string; up: boolean; fresh: boolean; steadyRttMs?: number; baselineMs?: number; penaltyMs?: number }[];
    }[];
  };
}
