// The immutable data one selection reads: edges with their place, addresses, health and latency penalty, pools with
// precompiled pins. Built aside whenever an edge, pool or health observation changes, and swapped in whole; `epoch`
// changes with every build that can change a decision, so cached decisions from an older snapshot are never reused
// (and a build that changes only vote ages, as most health writes do, keeps the caches).

import type { EdgeFields, PoolFields } from './edge-docs.js';
import type { GeoLocation } from './geoip.js';
import { parseIp, type ClientAddress } from './ip.js';
import type { ScoredVote } from './shared-latency.js';

export interface EdgeView {
  name: string;
  fields: EdgeFields;
  /** Where the edge is: given coordinates, else GeoIP of its first address; undefined when neither is known. */
  location?: GeoLocation & { source: 'given' | 'geoip' };
  ipv4: Buffer[];
  ipv6: Buffer[];
  up: boolean;
  votes: ScoredVote[];
  /** This node's own EWMA RTT to the edge, when it has probed it. */
  ownRttMs?: number;
  /** What the edge's route adds to its expected latency, as every node computes it (shared-latency.ts); undefined without a health check. */
  penaltyMs?: number;
  /** Whether the edge has a health check at all (without one it is always up). */
  checked: boolean;
}

export type CompiledPin =
  | { kind: 'country' | 'continent'; value: string; match: string; edges: Set<string> }
  | { kind: 'cidr'; family: 4 | 6; net: Buffer; prefix: number; match: string; edges: Set<string> };

export interface PoolView {
  fields: PoolFields;
  pins: CompiledPin[];
  /** The longest CIDR pin, so the ECS scope never claims more than the pin decided (0 without CIDR pins). */
  longestCidrPin: number;
}

export interface GeoSnapshot {
  epoch: number;
  edges: ReadonlyMap<string, EdgeView>;
  pools: ReadonlyMap<string, PoolView>;
  /**
   * Where this node is (--location). A client of unknown place is taken to be here: resolvers favour the nameserver
   * that answers them fastest, so the node a query reaches is usually near the client.
   */
  origin?: { latitude: number; longitude: number };
}

export const EMPTY_SNAPSHOT: GeoSnapshot = { epoch: 0, edges: new Map(), pools: new Map() };

export function compilePool(fields: PoolFields): PoolView {
  let longestCidrPin = 0;
  const pins = fields.pins.map((pin): CompiledPin => {
    const [kind, arg = ''] = pin.match.split(/:(.*)/s);
    const edges = new Set(pin.edges);
    if (kind === 'cidr') {
      const [address, len] = arg.split('/');
      const parsed = parseIp(address ?? '') as ClientAddress;
      const prefix = Number(len);
      longestCidrPin = Math.max(longestCidrPin, prefix);
      return { kind: 'cidr', family: parsed.family, net: parsed.bytes, prefix, match: pin.match, edges };
    }
    return { kind: kind === 'continent' ? 'continent' : 'country', value: arg, match: pin.match, edges };
  });
  return { fields, pins, longestCidrPin };
}
