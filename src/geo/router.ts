// The hot-path side of geo routing: for a dynamic RRset, find where the client is (ECS, else the resolver
// address; GeoIP through its cache), select edges from the current snapshot, and hand back a ready-to-encode
// RRset plus the ECS scope to reply with. Synchronous and memory only; decisions are cached per pool, family,
// client network and snapshot epoch, so a health change is seen by the very next query.

import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { Class, Type } from '../dns/constants.js';
import type { ClientSubnet } from '../dns/query-reader.js';
import type { IndexedRRset } from '../zone/zone-index.js';
import type { GeoIp, GeoLocation } from './geoip.js';
import { fromClientSubnet, isRoutable, networkKey, parseIp, truncate, type ClientAddress } from './ip.js';
import type { GeoMetrics } from './metrics.js';
import { selectEdges, type Decision } from './selection.js';
import type { GeoSnapshot } from './snapshot.js';

/** Never tell resolvers an answer holds for less than these (RFC 7871 §7.3 advises /24 and /56; /32 kills caches). */
export const MAX_SCOPE = { 4: 24, 6: 56 } as const;

export type ClientSource = 'ecs' | 'resolver' | 'none';

export interface ClientView {
  source: ClientSource;
  /** The address GeoIP was asked about, as text with its prefix ("81.2.69.0/24"). */
  network?: string;
  location?: GeoLocation;
  /** Prefix of the GeoIP network the address fell in. */
  geoipPrefix?: number;
  /** What the reply's ECS scope says (0 when the answer does not depend on the ECS address). */
  scopePrefix: number;
  /** The client network selection hashes and caches on. */
  networkKey: string;
  address?: ClientAddress;
}

export interface DynamicAnswer {
  /** The RRset to answer with; undefined means no address (NODATA). */
  rrset?: IndexedRRset;
  scopePrefix: number;
}

export interface GeoAnswerer {
  answer(pool: string, qtype: number, ttl: number, ecs: ClientSubnet | undefined, remote: string | undefined): DynamicAnswer;
}

interface CachedDecision {
  decision: Decision;
  rrset?: IndexedRRset;
}

function encodeRRset(type: number, ttl: number, addresses: Buffer[]): IndexedRRset {
  const records = addresses.map((address) => {
    const tail = Buffer.allocUnsafe(10 + address.length);
    tail.writeUInt16BE(type, 0);
    tail.writeUInt16BE(Class.IN, 2);
    tail.writeUInt32BE(ttl, 4);
    tail.writeUInt16BE(address.length, 8);
    address.copy(tail, 10);
    return { tail };
  });
  return { type, ttl, records, tailBytes: records.reduce((n, r) => n + r.tail.length, 0) };
}

export class GeoRouter implements GeoAnswerer {
  private readonly cache = new LRUCache<string, CachedDecision>({ max: 50_000 });
  /** Snapshot epoch of the last fail-open log line per pool: one line per change of state, not per client. */
  private readonly failOpenLogged = new Map<string, number>();
  /** Counter children by label values: prom-client's labels() hashes on every call, too slow per query. */
  private readonly decisionCounters = new Map<string, { inc(): void }>();
  private readonly cacheHit: { inc(): void };
  private readonly cacheMiss: { inc(): void };

  constructor(
    private readonly snapshot: () => GeoSnapshot,
    private readonly geoip: GeoIp | undefined,
    private readonly metrics: GeoMetrics,
    private readonly logger: Logger,
  ) {
    this.cacheHit = metrics.decisionCache.labels('hit');
    this.cacheMiss = metrics.decisionCache.labels('miss');
  }

  private countDecision(pool: string, edge: string, country: string): void {
    // bounded: pools × their edges × countries
    const key = `${pool}\0${edge}\0${country}`;
    let counter = this.decisionCounters.get(key);
    if (!counter) {
      counter = this.metrics.decisions.labels(pool, edge, country);
      this.decisionCounters.set(key, counter);
    }
    counter.inc();
  }

  /** Where a query comes from. `longestCidrPin` widens the scope so CIDR pins are not over-generalised. */
  client(ecs: ClientSubnet | undefined, remote: string | undefined, longestCidrPin = 0): ClientView {
    let address: ClientAddress | undefined;
    let source: ClientSource = 'none';
    // RFC 7871 §7.1.2: a source prefix of 0 asks us not to use the client's address; nor does a private one tell us anything
    if (ecs && ecs.sourcePrefix > 0) {
      const fromEcs = fromClientSubnet(ecs.family, ecs.sourcePrefix, ecs.address);
      if (fromEcs && isRoutable(fromEcs)) {
        address = fromEcs;
        source = 'ecs';
      }
    }
    if (!address && remote) {
      const resolver = parseIp(remote);
      if (resolver && isRoutable(resolver)) {
        address = resolver;
        source = 'resolver';
      }
    }
    if (!address) return { source, scopePrefix: 0, networkKey: 'unknown' };
    const geo = this.geoip?.lookup(address) ?? { networkPrefix: 0 };
    let prefix = Math.min(address.prefix, geo.networkPrefix, MAX_SCOPE[address.family]);
    if (longestCidrPin > prefix) prefix = Math.min(address.prefix, longestCidrPin, MAX_SCOPE[address.family]);
    const scoped: ClientAddress = { family: address.family, bytes: truncate(address.bytes, prefix), prefix: address.prefix };
    return {
      source,
      network: networkKey(address, address.prefix),
      location: geo.location,
      geoipPrefix: geo.networkPrefix,
      // the answer depends on the ECS address only when it came from ECS
      scopePrefix: source === 'ecs' ? prefix : 0,
      networkKey: networkKey(address, prefix),
      address: scoped,
    };
  }

  decide(pool: string, family: 4 | 6, client: ClientView): Decision {
    return selectEdges(this.snapshot(), pool, family, { address: client.address, location: client.location, networkKey: client.networkKey });
  }

  answer(pool: string, qtype: number, ttl: number, ecs: ClientSubnet | undefined, remote: string | undefined): DynamicAnswer {
    const snapshot = this.snapshot();
    const view = snapshot.pools.get(pool);
    const client = this.client(ecs, remote, view?.longestCidrPin ?? 0);
    const family = qtype === Type.AAAA ? 6 : 4;
    const key = `${pool}|${family}|${ttl}|${client.networkKey}|${snapshot.epoch}`;
    let cached = this.cache.get(key);
    if (cached) this.cacheHit.inc();
    else {
      this.cacheMiss.inc();
      const decision = selectEdges(snapshot, pool, family, { address: client.address, location: client.location, networkKey: client.networkKey });
      const answerTtl = Math.min(ttl, decision.ttl);
      cached = { decision, rrset: decision.noData ? undefined : encodeRRset(qtype, answerTtl, decision.addresses) };
      this.cache.set(key, cached);
      if (decision.failOpen && this.failOpenLogged.get(pool) !== snapshot.epoch) {
        this.failOpenLogged.set(pool, snapshot.epoch);
        this.logger.warn({ pool, family, edges: decision.chosen }, 'every member of the pool looks down: answering with all of them (fail open)');
      }
    }
    const { decision } = cached;
    const country = client.location?.country ?? '--';
    if (decision.failOpen) this.metrics.failOpen.labels(pool).inc();
    if (decision.noData) this.metrics.noData.labels(pool).inc();
    for (const edge of decision.chosen) this.countDecision(pool, edge, country);
    return { rrset: cached.rrset, scopePrefix: client.scopePrefix };
  }
}
