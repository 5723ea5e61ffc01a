// Which edges answer one client, as a pure synchronous function of an immutable snapshot (no I/O, no clock):
//
//   pool members that are active and have an address of the asked family
//   → healthy ones (none healthy: all of them when the pool fails open, else none: NODATA)
//   → pins: the first pin matching the client (country, continent or CIDR) narrows to its edges that are left
//   → expected latency per edge, lowest first:
//        estimate  = 5 ms + 2 × distance / (200 km/ms)     great-circle distance, light in fibre at ~2/3 c, there
//                                                          and back, plus a fixed overhead for the last mile
//        score     = estimate + ¼ × RTT this node measured to the edge + the edge's bias
//     Resolvers favour the nameserver that answers them fastest, so the node answering is usually near the
//     client and its own RTT is evidence; a quarter keeps distance the main signal. With no client location the
//     score is the measured RTT (or 0) plus bias.
//   → take `count` edges, one at a time: among edges within max(2 ms, 5 %) of the best remaining score, choose by
//     weight with rendezvous hashing of the client's network, so one network keeps its edge while near-equal edges
//     share the others, with no time windows to jump at.

import type { GeoLocation } from './geoip.js';
import { inNetwork, type ClientAddress } from './ip.js';
import type { EdgeView, GeoSnapshot, PoolView } from './snapshot.js';
import type { Vote } from './health-docs.js';

export const FIBRE_KM_PER_MS = 200;
export const OVERHEAD_MS = 5;
export const MEASURED_RTT_WEIGHT = 0.25;
const MARGIN_MS = 2;
const MARGIN_RATIO = 0.05;
const EARTH_RADIUS_KM = 6371;

export interface ClientContext {
  /** The client's network as used for pins (undefined when nothing is known). */
  address?: ClientAddress;
  location?: GeoLocation;
  /** Stable text naming the client's network, hashed to spread near-equal edges ("81.2.69.0/24"). */
  networkKey: string;
}

export interface Candidate {
  edge: string;
  up: boolean;
  votes: Vote[];
  distanceKm?: number;
  estimateMs?: number;
  measuredRttMs?: number;
  biasMs: number;
  scoreMs: number;
  weight: number;
  pinned: boolean;
  chosen: boolean;
  /** Why the edge was not considered, when it was not. */
  excluded?: string;
}

export interface Decision {
  pool: string;
  family: 4 | 6;
  /** Chosen edges, best first. */
  chosen: string[];
  /** Their addresses of the asked family, in that order. */
  addresses: Buffer[];
  /** Every member was down and the pool fails open: all members answer. */
  failOpen: boolean;
  /** Nothing to answer (no member with such an address, or all down without fail-open). */
  noData: boolean;
  /** The pin that decided, if one did. */
  pin?: string;
  candidates: Candidate[];
  ttl: number;
}

export function greatCircleKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function estimateMs(distanceKm: number): number {
  return OVERHEAD_MS + (2 * distanceKm) / FIBRE_KM_PER_MS;
}

/** FNV-1a, 32 bits: small, fast and the same on every node (the choice must not depend on who answers). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // a final avalanche so keys differing only in their last characters spread over the whole range
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** Weighted rendezvous hashing (highest random weight): -w / ln(u), u uniform in (0, 1). */
function rendezvous(networkKey: string, edge: string, weight: number): number {
  const u = (fnv1a(`${networkKey}|${edge}`) + 1) / 4294967297;
  return -Math.max(weight, 1e-3) / Math.log(u);
}

function pinMatches(pool: PoolView, client: ClientContext): PoolView['pins'][number] | undefined {
  for (const pin of pool.pins) {
    if (pin.kind === 'country' && client.location?.country === pin.value) return pin;
    if (pin.kind === 'continent' && client.location?.continent === pin.value) return pin;
    if (pin.kind === 'cidr' && client.address && client.address.family === pin.family && inNetwork(client.address, pin.net, pin.prefix)) return pin;
  }
  return undefined;
}

function addressesOf(edge: EdgeView, family: 4 | 6): Buffer[] {
  return family === 4 ? edge.ipv4 : edge.ipv6;
}

export function selectEdges(snapshot: GeoSnapshot, poolName: string, family: 4 | 6, client: ClientContext): Decision {
  const pool = snapshot.pools.get(poolName);
  const decision: Decision = { pool: poolName, family, chosen: [], addresses: [], failOpen: false, noData: true, candidates: [], ttl: pool?.fields.ttl ?? 30 };
  if (!pool) return decision;

  const eligible: Candidate[] = [];
  const views = new Map<string, EdgeView>();
  for (const name of pool.fields.members) {
    const edge = snapshot.edges.get(name);
    const candidate: Candidate = { edge: name, up: edge?.up ?? false, votes: edge?.votes ?? [], biasMs: edge?.fields.biasMs ?? 0, scoreMs: Infinity, weight: edge?.fields.weight ?? 0, pinned: false, chosen: false };
    decision.candidates.push(candidate);
    if (!edge) candidate.excluded = 'no such edge';
    else if (edge.fields.state !== 'active') candidate.excluded = `state ${edge.fields.state}`;
    else if (addressesOf(edge, family).length === 0) candidate.excluded = `no IPv${family} address`;
    else {
      eligible.push(candidate);
      views.set(name, edge);
    }
  }
  if (eligible.length === 0) return decision;

  let pool_ = eligible.filter((c) => c.up);
  for (const c of eligible) if (!c.up) c.excluded = 'down';
  if (pool_.length === 0) {
    if (!pool.fields.failOpen) return decision;
    // Fail open: every member looks down, which more often means the probes are wrong than that all edges are.
    decision.failOpen = true;
    decision.noData = false;
    for (const c of eligible) {
      delete c.excluded;
      c.chosen = true;
      decision.chosen.push(c.edge);
      decision.addresses.push(...addressesOf(views.get(c.edge) as EdgeView, family));
    }
    return decision;
  }

  const pin = pinMatches(pool, client);
  if (pin) {
    const pinned = pool_.filter((c) => pin.edges.has(c.edge));
    if (pinned.length > 0) {
      decision.pin = pin.match;
      for (const c of pinned) c.pinned = true;
      for (const c of pool_) if (!c.pinned) c.excluded = `not in pin ${pin.match}`;
      pool_ = pinned;
    }
  }

  for (const c of pool_) {
    const edge = views.get(c.edge) as EdgeView;
    c.measuredRttMs = edge.ownRttMs;
    if (client.location && edge.location) {
      c.distanceKm = greatCircleKm(client.location, edge.location);
      c.estimateMs = estimateMs(c.distanceKm);
      c.scoreMs = c.estimateMs + MEASURED_RTT_WEIGHT * (edge.ownRttMs ?? 0) + c.biasMs;
    } else c.scoreMs = (edge.ownRttMs ?? 0) + c.biasMs;
  }

  const remaining = [...pool_].sort((a, b) => a.scoreMs - b.scoreMs || a.edge.localeCompare(b.edge));
  const count = Math.min(pool.fields.count, remaining.length);
  for (let n = 0; n < count; n++) {
    const best = remaining[0].scoreMs;
    const limit = best + Math.max(MARGIN_MS, Math.abs(best) * MARGIN_RATIO);
    let pick = 0;
    let pickValue = -Infinity;
    for (let i = 0; i < remaining.length && remaining[i].scoreMs <= limit; i++) {
      const value = rendezvous(client.networkKey, remaining[i].edge, remaining[i].weight);
      if (value > pickValue) {
        pickValue = value;
        pick = i;
      }
    }
    const [chosen] = remaining.splice(pick, 1);
    chosen.chosen = true;
    decision.chosen.push(chosen.edge);
    decision.addresses.push(...addressesOf(views.get(chosen.edge) as EdgeView, family));
  }
  decision.noData = decision.addresses.length === 0;
  return decision;
}
