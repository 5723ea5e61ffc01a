// Holds what the store says about edges, pools and health, plus this node's own probe view, and builds the
// immutable GeoSnapshot that queries read. Every change builds a new snapshot aside and swaps it in.

import type { Logger } from 'pino';
import { parseIPv4, parseIPv6 } from '../proto/rdata-ip.js';
import { DEFAULT_MARGIN, type EdgeFields, type PoolFields } from './edge-docs.js';
import type { GeoIp } from './geoip.js';
import { decideUp, forgottenSince, votesFor, type EdgeObservation, type HealthDoc, type ObserverLocation } from './health-docs.js';
import { parseIp } from './ip.js';
import { medianPenalty, scoreVote } from './shared-latency.js';
import { compilePool, EMPTY_SNAPSHOT, type EdgeView, type GeoSnapshot, type PoolView } from './snapshot.js';
import type { Margin } from './steady-rtt.js';

export interface GeoStateOptions {
  nodeId: string;
  intervalMs: number;
  logger: Logger;
  geoip?: GeoIp;
  /** Where this node is (--location): its own RTTs are then corrected for its distance, as others correct theirs. */
  location?: ObserverLocation;
  /** Injected so tests can move time; Date.now otherwise. */
  now?: () => number;
}

export class GeoState {
  readonly edges = new Map<string, EdgeFields>();
  readonly pools = new Map<string, PoolFields>();
  readonly health = new Map<string, HealthDoc>();
  /** When each forgotten node was forgotten (`cluster forget`): its older health documents count no more. */
  readonly forgotten = new Map<string, number>();
  private own = new Map<string, EdgeObservation>();
  private current: GeoSnapshot = EMPTY_SNAPSHOT;
  private epoch = 0;
  private readonly listeners = new Set<(snapshot: GeoSnapshot) => void>();

  constructor(private readonly options: GeoStateOptions) {}

  get snapshot(): GeoSnapshot {
    return this.current;
  }

  /** Edges some pool uses and that are not disabled: the ones worth probing. */
  probedEdges(): EdgeFields[] {
    const used = new Set<string>();
    for (const pool of this.pools.values()) for (const m of pool.members) used.add(m);
    return [...this.edges.values()].filter((e) => used.has(e.name) && e.state !== 'disabled');
  }

  /**
   * The margin this node's steady RTTs to an edge follow: the tightest of the pools the edge is in, so a change that
   * matters to any of them is published.
   */
  marginFor(edge: string): Margin {
    let margin: Margin | undefined;
    for (const pool of this.pools.values()) {
      if (!pool.members.includes(edge)) continue;
      margin = margin
        ? { percent: Math.min(margin.percent, pool.marginPercent), ms: Math.min(margin.ms, pool.marginMs), rounds: Math.min(margin.rounds, pool.marginRounds) }
        : { percent: pool.marginPercent, ms: pool.marginMs, rounds: pool.marginRounds };
    }
    return margin ?? { percent: DEFAULT_MARGIN.marginPercent, ms: DEFAULT_MARGIN.marginMs, rounds: DEFAULT_MARGIN.marginRounds };
  }

  get location(): ObserverLocation | undefined {
    return this.options.location;
  }

  ownObservation(edge: string): EdgeObservation | undefined {
    return this.own.get(edge);
  }

  /** This node's probe view as last set (what DNS workers are handed). */
  ownObservations(): ReadonlyMap<string, EdgeObservation> {
    return this.own;
  }

  setOwnObservations(observations: ReadonlyMap<string, EdgeObservation>): void {
    // Nothing probed before or now (pools of unchecked edges): a new snapshot would only empty the answer caches.
    if (observations.size === 0 && this.own.size === 0) return;
    this.own = new Map(observations);
    this.rebuild();
  }

  /** Every node's health document, but those written before their node was forgotten. */
  liveHealth(): HealthDoc[] {
    return [...this.health.values()].filter((doc) => !forgottenSince(doc, this.forgotten));
  }

  onChange(listener: (snapshot: GeoSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  rebuild(): GeoSnapshot {
    const now = (this.options.now ?? Date.now)();
    const edges = new Map<string, EdgeView>();
    for (const fields of this.edges.values()) {
      const own = this.own.get(fields.name);
      const checked = fields.check.type !== 'none';
      const location = this.locate(fields);
      const self = { node: this.options.nodeId, observation: own, intervalMs: this.options.intervalMs, location: this.options.location };
      const votes = checked ? votesFor(fields.name, this.liveHealth(), self, now).map((v) => scoreVote(v, location)) : [];
      edges.set(fields.name, {
        name: fields.name,
        fields,
        location,
        ipv4: fields.ipv4.map((a) => parseIPv4(a) as Buffer),
        ipv6: fields.ipv6.map((a) => parseIPv6(a) as Buffer),
        up: checked ? decideUp(votes) : true,
        votes,
        ownRttMs: own?.rttMs,
        ...(checked ? { penaltyMs: medianPenalty(votes) } : {}),
        checked,
      });
    }
    const pools = new Map<string, PoolView>();
    for (const fields of this.pools.values()) {
      const previous = this.current.pools.get(fields.name);
      pools.set(fields.name, previous?.fields === fields ? previous : compilePool(fields));
    }
    const epoch = sameDecisions(this.current, edges, pools) ? this.epoch : ++this.epoch;
    this.current = { epoch, edges, pools, ...(this.options.location ? { origin: this.options.location } : {}) };
    for (const listener of this.listeners) listener(this.current);
    return this.current;
  }

  private locate(edge: EdgeFields): EdgeView['location'] {
    if (edge.latitude !== undefined && edge.longitude !== undefined) {
      return { latitude: edge.latitude, longitude: edge.longitude, ...(edge.country ? { country: edge.country } : {}), source: 'given' };
    }
    const geoip = this.options.geoip;
    if (!geoip) return undefined;
    for (const text of [...edge.ipv4, ...edge.ipv6]) {
      const address = parseIp(text);
      const found = address ? geoip.lookup(address).location : undefined;
      if (found) return { ...found, source: 'geoip' };
    }
    return undefined;
  }
}

/**
 * Whether every decision from `before` would come out the same from these edges and pools: the same documents, and
 * per edge the same place, health and penalty. Vote ages and raw averages do not decide anything.
 */
function sameDecisions(before: GeoSnapshot, edges: ReadonlyMap<string, EdgeView>, pools: ReadonlyMap<string, PoolView>): boolean {
  if (before.epoch === 0 || before.edges.size !== edges.size || before.pools.size !== pools.size) return false;
  for (const [name, pool] of pools) if (before.pools.get(name) !== pool) return false;
  for (const [name, edge] of edges) {
    const old = before.edges.get(name);
    if (!old || old.fields !== edge.fields || old.up !== edge.up || old.penaltyMs !== edge.penaltyMs) return false;
    if (old.location?.latitude !== edge.location?.latitude || old.location?.longitude !== edge.location?.longitude || old.location?.country !== edge.location?.country) return false;
  }
  return true;
}
