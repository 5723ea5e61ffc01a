// The simulated world's ground truth: where the three nodes, the eight edges and the client networks are, and how
// long a round trip between any of them takes. Kernel netem is not available, so the edges' health endpoints answer
// after the delay this model gives for the node that asks (edge-servers.ts), and the table compares what edgedns
// answers with what this model says is fastest.
//
//   round trip = 5 ms + 1.2 × 2 × great-circle distance / (200 km/ms) + detour(edge, continent asking)
//
// Real routes run about a fifth longer than great circles; the detours are what GeoIP distance cannot know:
//   lon  London edge whose transit backhauls through New York: +90 ms to anyone outside North America. For a
//        London client it is the GeoIP-nearest edge and the slower one (fra is faster).
//   sfo  San Francisco edge behind a saturated uplink: +80 ms for everyone. Nearest to Mountain View, slower than iad.
//   ams  Amsterdam edge that answers only node-eu's network (a peering-only link): unreachable for the others,
//        clients included.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { greatCircleKm, type Place } from '../../src/geo/distance.js';

export interface WorldNode extends Place {
  id: string;
  /** Loopback address its DNS and API listen on. */
  address: string;
  continent: string;
  city: string;
}

export interface WorldEdge extends Place {
  name: string;
  /** Loopback address: its health endpoint listens there, and DNS answers it. */
  address: string;
  city: string;
}

export interface WorldClient extends Place {
  /** The ECS network asked with, as "a.b.c.0/24". */
  network: string;
  octets: number[];
  city: string;
  country: string;
  continent: string;
}

export const NODES: WorldNode[] = [
  { id: 'node-eu', address: '127.0.0.2', latitude: 50.11, longitude: 8.68, continent: 'EU', city: 'Frankfurt' },
  { id: 'node-us', address: '127.0.0.3', latitude: 39.04, longitude: -77.49, continent: 'NA', city: 'Ashburn' },
  { id: 'node-ap', address: '127.0.0.4', latitude: 1.29, longitude: 103.85, continent: 'AS', city: 'Singapore' },
];

export const EDGES: WorldEdge[] = [
  { name: 'lon', address: '127.0.1.1', latitude: 51.51, longitude: -0.13, city: 'London' },
  { name: 'ams', address: '127.0.1.2', latitude: 52.37, longitude: 4.9, city: 'Amsterdam' },
  { name: 'fra', address: '127.0.1.3', latitude: 50.11, longitude: 8.68, city: 'Frankfurt' },
  { name: 'iad', address: '127.0.1.4', latitude: 39.04, longitude: -77.49, city: 'Ashburn' },
  { name: 'sfo', address: '127.0.1.5', latitude: 37.77, longitude: -122.42, city: 'San Francisco' },
  { name: 'gru', address: '127.0.1.6', latitude: -23.55, longitude: -46.63, city: 'Sao Paulo' },
  { name: 'nrt', address: '127.0.1.7', latitude: 35.68, longitude: 139.69, city: 'Tokyo' },
  { name: 'syd', address: '127.0.1.8', latitude: -33.87, longitude: 151.21, city: 'Sydney' },
];

/** Extra round-trip ms on the way to an edge, by the asker's continent ('*': any other). */
export const DETOURS: Record<string, Record<string, number>> = {
  lon: { NA: 0, '*': 90 },
  sfo: { '*': 80 },
};

/** Edges only some nodes (and no client) can reach. */
export const ONLY_FROM: Record<string, string[]> = { ams: ['node-eu'] };

export const ROUTE_STRETCH = 1.2;

/** The test GeoIP networks the world asks about (geoip/test-networks.csv): five continents. */
const CLIENT_NETWORKS = ['81.2.69.0/24', '5.9.0.0/16', '8.8.8.0/24', '23.0.0.0/12', '200.160.0.0/20', '133.242.0.0/16', '1.1.1.0/24'];

export const GEOIP_CSV = path.resolve('geoip/test-networks.csv');

/** The client networks, placed where the world's GeoIP database places them. */
export function worldClients(csvPath = GEOIP_CSV): WorldClient[] {
  const rows = readFileSync(csvPath, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  return CLIENT_NETWORKS.map((network) => {
    const row = rows.find((r) => r.startsWith(network + ','));
    if (!row) throw new Error(`${network} is not in ${csvPath}`);
    const [, lat, lon, country, continent, city] = row.split(',');
    const octets = network.split('/')[0].split('.').map(Number).slice(0, 3);
    return { network: `${octets.join('.')}.0/24`, octets, latitude: Number(lat), longitude: Number(lon), country, continent, city };
  });
}

/** Faults the bench and the test apply on top of the model. */
export interface Faults {
  /** Edges whose health endpoint is gone. */
  dead: Set<string>;
  /** Extra ms per edge, for everyone. */
  slower: Map<string, number>;
  /** Per node: edges it cannot reach (its view partitioned). */
  cut: Map<string, Set<string>>;
}

export function noFaults(): Faults {
  return { dead: new Set(), slower: new Map(), cut: new Map() };
}

function detour(edge: string, continent: string): number {
  const table = DETOURS[edge];
  return table ? (table[continent] ?? table['*'] ?? 0) : 0;
}

function roundTrip(from: Place, continent: string, edge: WorldEdge, faults: Faults): number {
  const km = greatCircleKm(from, edge);
  return 5 + (ROUTE_STRETCH * 2 * km) / 200 + detour(edge.name, continent) + (faults.slower.get(edge.name) ?? 0);
}

/** What a node's probe of an edge takes, or undefined when the node cannot reach it. */
export function probeDelayMs(node: WorldNode, edge: WorldEdge, faults: Faults): number | undefined {
  if (faults.dead.has(edge.name) || faults.cut.get(node.id)?.has(edge.name)) return undefined;
  const only = ONLY_FROM[edge.name];
  if (only && !only.includes(node.id)) return undefined;
  return roundTrip(node, node.continent, edge, faults);
}

/** A client's round trip to an edge, or undefined when it cannot reach it. */
export function clientLatencyMs(client: WorldClient, edge: WorldEdge, faults: Faults): number | undefined {
  if (faults.dead.has(edge.name) || ONLY_FROM[edge.name]) return undefined;
  return roundTrip(client, client.continent, edge, faults);
}

/** The edge GeoIP distance alone would pick among those the client can reach. */
export function nearestEdge(client: WorldClient, faults: Faults): WorldEdge {
  const reachable = EDGES.filter((e) => clientLatencyMs(client, e, faults) !== undefined);
  return reachable.reduce((best, e) => (greatCircleKm(client, e) < greatCircleKm(client, best) ? e : best));
}

/** The edge with the lowest modelled round trip. */
export function fastestEdge(client: WorldClient, faults: Faults): WorldEdge {
  const reachable = EDGES.filter((e) => clientLatencyMs(client, e, faults) !== undefined);
  return reachable.reduce((best, e) => ((clientLatencyMs(client, e, faults) as number) < (clientLatencyMs(client, best, faults) as number) ? e : best));
}
