// Which edges answer one client, as a pure synchronous function of an immutable snapshot (no I/O, no clock):
//
//   pool members that are active and have an address of the asked family
//   → healthy ones (none healthy: all of them when the pool fails open, else none: NODATA)
//   → pins: the first pin matching the client (country, continent or CIDR) narrows to its edges that are left
//   → two rankings of what is left:
//        geography  = estimate + bias        estimate = 5 ms + 2 × distance / (200 km/ms): great-circle distance,
//                                            light in fibre at ~2/3 c, there and back, plus the last mile
//        expected   = geography + penalty    penalty: the milliseconds the edge's route adds, the median over the
//                                            fresh observers (shared-latency.ts), the same on every node
//     A client of unknown place is taken to be where this node is (snapshot.origin, --location): the node a resolver
//     asks is usually its nearest; with neither, geography is the bias alone.
//   → take `count` edges, one at a time: the *anchor* is the best remaining edge by geography, the *best* the best
//     remaining by expected latency (each: among edges within max(2 ms, 5 %) of the top, choose by weight with
//     rendezvous hashing of the client's network, so one network keeps its edge while near-equal edges share the
//     others). The client gets the best only when it beats the anchor by the pool's margin (marginPercent of the
//     anchor's expected latency and marginMs, both); otherwise the anchor.
//
// Every input is in the snapshot, built from replicated documents: nodes that hold the same documents give the same
// answer, with no memory of earlier answers to disagree about (see steering in docs/geo.md). The observers' steady
// RTTs (steady-rtt.ts) move only on a sustained change, so neither do penalties, nor answers.

import type { GeoLocation } from './geoip.js';
import { estimateMs, greatCircleKm } from './distance.js';
import { inNetwork, type ClientAddress } from './ip.js';
import type { EdgeView, GeoSnapshot, PoolView } from './snapshot.js';
import type { ScoredVote } from './shared-latency.js';

export { estimateMs, FIBRE_KM_PER_MS, greatCircleKm, OVERHEAD_MS } from './distance.js';
const BAND_MS = 2;
const BAND_RATIO = 0.05;

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
  votes: ScoredVote[];
  distanceKm?: number;
  estimateMs?: number;
  /** This node's own RTT average to the edge (shown; the shared penalty is what counts). */
  measuredRttMs?: number;
  /** The edge's shared latency penalty (undefined without a health check: then it adds nothing). */
  penaltyMs?: number;
  biasMs: number;
  /** Geography alone: estimate + bias. */
  geoScoreMs: number;
  /** Expected latency: geoScoreMs + penaltyMs. */
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
  /** How each answered edge was taken, in answer order (empty on fail-open and NODATA). */
  steering: SteeringStep[];
  /** Where distances were measured from: the client's place, this node's (the client's is unknown), or neither. */
  from: 'client' | 'node' | 'nowhere';
  /** The pool's stabilization margin (steering steps compare with it; observers hold RTT changes for `rounds`). */
  margin: { percent: number; ms: number; rounds: number };
  ttl: number;
}

export interface SteeringStep {
  /** Where geography sends the client. */
  anchor: string;
  /** The lowest expected latency left. */
  best: string;
  /** Expected latency the best saves over the anchor (ms; ≤ 0 when the anchor is the best). */
  gainMs: number;
  /** What it must save to be taken: max(marginPercent of the anchor's expected latency, marginMs). */
  neededMs: number;
  chosen: string;
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
  const margin = { percent: pool?.fields.marginPercent ?? 0, ms: pool?.fields.marginMs ?? 0, rounds: pool?.fields.marginRounds ?? 0 };
  const place = client.location ?? snapshot.origin;
  const from = client.location ? 'client' : snapshot.origin ? 'node' : 'nowhere';
  const decision: Decision = { pool: poolName, family, chosen: [], addresses: [], failOpen: false, noData: true, candidates: [], steering: [], from, margin, ttl: pool?.fields.ttl ?? 30 };
  if (!pool) return decision;

  const eligible: Candidate[] = [];
  const views = new Map<string, EdgeView>();
  for (const name of pool.fields.members) {
    const edge = snapshot.edges.get(name);
    const candidate: Candidate = { edge: name, up: edge?.up ?? false, votes: edge?.votes ?? [], biasMs: edge?.fields.biasMs ?? 0, geoScoreMs: Infinity, scoreMs: Infinity, weight: edge?.fields.weight ?? 0, pinned: false, chosen: false };
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
    c.penaltyMs = edge.penaltyMs;
    if (place && edge.location) {
      c.distanceKm = greatCircleKm(place, edge.location);
      c.estimateMs = estimateMs(c.distanceKm);
      c.geoScoreMs = c.estimateMs + c.biasMs;
    } else c.geoScoreMs = c.biasMs;
    c.scoreMs = c.geoScoreMs + (edge.penaltyMs ?? 0);
  }

  // count is small: a linear scan per answered edge, no sorting; each edge's rendezvous value computed once
  const remaining = pool_;
  const hrw: number[] = [];
  const count = Math.min(pool.fields.count, remaining.length);
  for (let n = 0; n < count; n++) {
    const anchor = remaining[pickAmongNearEqual(remaining, true, client.networkKey, hrw)];
    const bestAt = pickAmongNearEqual(remaining, false, client.networkKey, hrw);
    const best = remaining[bestAt];
    const gainMs = anchor.scoreMs - best.scoreMs;
    const neededMs = Math.max((margin.percent / 100) * anchor.scoreMs, margin.ms);
    const chosen = best !== anchor && gainMs > neededMs ? best : anchor;
    const at = remaining.indexOf(chosen);
    remaining.splice(at, 1);
    hrw.splice(at, 1);
    chosen.chosen = true;
    decision.steering.push({ anchor: anchor.edge, best: best.edge, gainMs: round(gainMs), neededMs: round(neededMs), chosen: chosen.edge });
    decision.chosen.push(chosen.edge);
    decision.addresses.push(...addressesOf(views.get(chosen.edge) as EdgeView, family));
  }
  decision.noData = decision.addresses.length === 0;
  return decision;
}

/**
 * The index of the edge to take among those within max(2 ms, 5 %) of the lowest score (by geography, or by expected
 * latency): the rendezvous winner, so a network keeps its edge among near-equal ones. `hrw` caches the rendezvous
 * values by index.
 */
function pickAmongNearEqual(list: Candidate[], byGeography: boolean, networkKey: string, hrw: number[]): number {
  let top = Infinity;
  for (const c of list) {
    const score = byGeography ? c.geoScoreMs : c.scoreMs;
    if (score < top) top = score;
  }
  const limit = top + Math.max(BAND_MS, Math.abs(top) * BAND_RATIO);
  let pick = 0;
  let pickValue = -Infinity;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if ((byGeography ? c.geoScoreMs : c.scoreMs) > limit) continue;
    let value = hrw[i];
    if (value === undefined) value = hrw[i] = rendezvous(networkKey, c.edge, c.weight);
    if (value > pickValue || (value === pickValue && c.edge < list[pick].edge)) {
      pickValue = value;
      pick = i;
    }
  }
  return pick;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
