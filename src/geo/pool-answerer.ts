// The hot-path side of geo routing: for a dynamic RRset, find where the client is (ECS, else the resolver
// address; GeoIP through its cache), select edges from the current snapshot, and hand back a ready-to-encode
// RRset plus the ECS scope to reply with. Synchronous and memory only. Two caches, both emptied when the snapshot
// epoch or the GeoIP databases change, so a health change is seen by the very next query:
//   answers per pool, type, TTL and client as it asked (an ECS IPv4 network as one number, no string built): a
//   query seen before costs one Map lookup and its counter increments;
//   decisions per pool, type, TTL and client network at the scope prefix (clients GeoIP cannot tell apart share one).

import type { Logger } from 'pino';
import { Class, Type } from '../proto/constants.js';
import type { ClientSubnet } from '../proto/query-reader.js';
import type { IndexedRRset } from '../zone/zone-index.js';
import { describeClient, locateClient, type ClientView } from './client-locator.js';
import type { GeoIp } from './geoip.js';
import { fromClientSubnet, isRoutable, isRoutableV4, networkKey, truncate } from './ip.js';
import type { GeoMetrics } from './metrics.js';
import { TaggedTwoGenerationCache, TwoGenerationCache } from './two-generation-cache.js';
import { selectEdges, type Decision } from './selection.js';
import type { GeoSnapshot } from './snapshot.js';

export interface DynamicAnswer {
  /** The RRset to answer with; undefined means no address (NODATA). */
  rrset?: IndexedRRset;
  scopePrefix: number;
  /**
   * One Map for every answer with the same RRset (or the same NODATA), where the caller keeps what it builds from
   * that RRset (dynamic-answer.ts: the concrete result per name), so clients sent to the same edges share that work.
   */
  shared?: Map<object, unknown>;
}

export interface GeoAnswerer {
  answer(pool: string, qtype: number, ttl: number, ecs: ClientSubnet | undefined, remote: string | undefined): DynamicAnswer;
}

/** What a decision leaves for the queries that reuse it (the explain API recomputes the full Decision). */
interface CachedDecision {
  chosen: string[];
  failOpen: boolean;
  noData: boolean;
  rrset?: IndexedRRset;
  shared: Map<object, unknown>;
  /** The answers built from it, by scope prefix and client country: clients that differ in neither share one. */
  answers: Map<string, ClientAnswer>;
}

/** An answer's RRset and the Map its users share (see DynamicAnswer.shared). */
interface SharedRRset {
  rrset: IndexedRRset;
  shared: Map<object, unknown>;
}

type Counting = { inc(): void };

/** An answer, shared by the clients given the same decision, scope and country, and the counters each query adds one to. */
interface ClientAnswer extends DynamicAnswer {
  counters: Counting[];
}

/** A pool asked for one type with one RRset TTL: answers of different slots never share a cache key. */
interface Slot {
  qtype: number;
  ttl: number;
  id: number;
}

/** Slot ids stay below 2^15, so (slot × 64 + prefix) × 2^32 + IPv4 address is an exact double: a key without a string. */
const MAX_SLOTS = 1 << 15;
const ADDRESS_BITS = 2 ** 32;
/** Distinct answers kept (a pool of 50 edges answering 2 of them has 2,450). */
const MAX_RRSETS = 10_000;

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

export class PoolAnswerer implements GeoAnswerer {
  /** Answers to clients located by an ECS IPv4 network (the common case): tag slot × 64 + source prefix, key the network bits. */
  private readonly ipv4Answers = new TaggedTwoGenerationCache<ClientAnswer>(100_000);
  /** Answers to the others: an ECS IPv6 network, or the resolver's address. */
  private readonly otherAnswers = new TwoGenerationCache<string, ClientAnswer>(50_000);
  /** Decisions per client network at its scope prefix, IPv4 (keyed like ipv4Answers) and the others. */
  private readonly ipv4Decisions = new TwoGenerationCache<number, CachedDecision>(50_000);
  private readonly otherDecisions = new TwoGenerationCache<string, CachedDecision>(20_000);
  /** The snapshot epoch and GeoIP generation the caches hold answers for. */
  private cachedEpoch = -1;
  private cachedGeoip = -1;
  /** RRsets by type, TTL and addresses: see rrset(). */
  private readonly rrsets = new Map<string, SharedRRset>();
  /** What NODATA answers share. */
  private readonly noDataShared = new Map<object, unknown>();
  private readonly slots = new Map<string, Slot[]>();
  private nextSlot = 0;
  /** The slot last asked for: most queries ask for the same pool, type and TTL as the one before. */
  private last: Slot & { pool: string } = { pool: '', qtype: -1, ttl: -1, id: -1 };
  /** Snapshot epoch of the last fail-open log line per pool: one line per change of state, not per client. */
  private readonly failOpenLogged = new Map<string, number>();
  /** Counter children by label values: prom-client's labels() hashes on every call, too slow per query. */
  private readonly decisionCounters = new Map<string, Counting>();
  private readonly failOpenCounters = new Map<string, Counting>();
  private readonly noDataCounters = new Map<string, Counting>();
  private readonly cacheHit: Counting;
  private readonly cacheMiss: Counting;

  constructor(
    private readonly snapshot: () => GeoSnapshot,
    private readonly geoip: GeoIp | undefined,
    private readonly metrics: GeoMetrics,
    private readonly logger: Logger,
  ) {
    this.cacheHit = metrics.decisionCache.labels('hit');
    this.cacheMiss = metrics.decisionCache.labels('miss');
  }

  /** The RRset of these addresses, one object for every decision that chose them (few, where decisions are many). */
  private rrset(type: number, ttl: number, addresses: Buffer[]): SharedRRset {
    const key = `${type}|${ttl}|${addresses.map((a) => a.toString('hex')).join(',')}`;
    let rrset = this.rrsets.get(key);
    if (!rrset) {
      if (this.rrsets.size >= MAX_RRSETS) this.rrsets.clear();
      rrset = { rrset: encodeRRset(type, ttl, addresses), shared: new Map() };
      this.rrsets.set(key, rrset);
    }
    return rrset;
  }

  private decisionCounter(pool: string, edge: string, country: string): Counting {
    // bounded: pools × their edges × countries
    const key = `${pool}\0${edge}\0${country}`;
    let counter = this.decisionCounters.get(key);
    if (!counter) {
      counter = this.metrics.decisions.labels(pool, edge, country);
      this.decisionCounters.set(key, counter);
    }
    return counter;
  }

  private poolCounter(counters: Map<string, Counting>, metric: GeoMetrics['failOpen'], pool: string): Counting {
    let counter = counters.get(pool);
    if (!counter) {
      counter = metric.labels(pool);
      counters.set(pool, counter);
    }
    return counter;
  }

  /** Where a query comes from. `longestCidrPin` widens the scope so CIDR pins are not over-generalised. */
  client(ecs: ClientSubnet | undefined, remote: string | undefined, longestCidrPin = 0): ClientView {
    return describeClient(this.geoip, ecs, remote, longestCidrPin);
  }

  decide(pool: string, family: 4 | 6, client: ClientView): Decision {
    return selectEdges(this.snapshot(), pool, family, { address: client.address, location: client.location, networkKey: client.networkKey });
  }

  /** The slot of a pool, type and TTL; slot ids are reused from the start once they run out, with the caches emptied. */
  private slot(pool: string, qtype: number, ttl: number): number {
    const last = this.last;
    if (last.pool === pool && last.qtype === qtype && last.ttl === ttl) return last.id;
    let slots = this.slots.get(pool);
    let slot = slots?.find((s) => s.qtype === qtype && s.ttl === ttl);
    if (!slot) {
      if (this.nextSlot === MAX_SLOTS) {
        this.slots.clear();
        this.clearCaches();
        this.nextSlot = 0;
        slots = undefined;
      }
      if (!slots) this.slots.set(pool, (slots = []));
      slot = { qtype, ttl, id: this.nextSlot++ };
      slots.push(slot);
    }
    this.last = { pool, ...slot };
    return slot.id;
  }

  private clearCaches(): void {
    this.ipv4Answers.clear();
    this.otherAnswers.clear();
    this.ipv4Decisions.clear();
    this.otherDecisions.clear();
  }

  /** The key of an answer that depends on something else than an ECS IPv4 network: the ECS IPv6 one, else the resolver. */
  private otherKey(slot: number, ecs: ClientSubnet | undefined, remote: string | undefined): string {
    if (ecs && ecs.sourcePrefix > 0) {
      const address = fromClientSubnet(ecs.family, ecs.sourcePrefix, ecs.address);
      if (address && isRoutable(address)) return `${slot}|s${address.bytes.toString('hex')}/${address.prefix}`;
    }
    return `${slot}|r${remote ?? ''}`;
  }

  answer(pool: string, qtype: number, ttl: number, ecs: ClientSubnet | undefined, remote: string | undefined): DynamicAnswer {
    const snapshot = this.snapshot();
    const geoipGeneration = this.geoip?.generation ?? 0;
    if (snapshot.epoch !== this.cachedEpoch || geoipGeneration !== this.cachedGeoip) {
      this.clearCaches();
      this.cachedEpoch = snapshot.epoch;
      this.cachedGeoip = geoipGeneration;
    }
    const slot = this.slot(pool, qtype, ttl);
    // The cache is keyed by what the answer depends on and nothing else: the ECS network as sent when it locates
    // the client, else the resolver's address.
    let answer: ClientAnswer | undefined;
    let tag = -1;
    let network = 0;
    let key = '';
    if (ecs && ecs.family === 1 && ecs.sourcePrefix > 0 && ecs.sourcePrefix <= 32) {
      const a = ecs.address;
      const prefix = ecs.sourcePrefix;
      const bits = ((((a[0] ?? 0) << 24) | ((a[1] ?? 0) << 16) | ((a[2] ?? 0) << 8) | (a[3] ?? 0)) & (0xffffffff << (32 - prefix))) >>> 0;
      if (isRoutableV4(bits >>> 24, (bits >>> 16) & 0xff)) {
        tag = slot * 64 + prefix;
        network = bits >>> (32 - prefix);
      }
    }
    if (tag >= 0) answer = this.ipv4Answers.get(tag, network);
    else answer = this.otherAnswers.get((key = this.otherKey(slot, ecs, remote)));
    if (answer) this.cacheHit.inc();
    else {
      answer = this.compute(snapshot, slot, pool, qtype, ttl, ecs, remote);
      if (tag >= 0) this.ipv4Answers.set(tag, network, answer);
      else this.otherAnswers.set(key, answer);
    }
    for (const counter of answer.counters) counter.inc();
    return answer;
  }

  private compute(snapshot: GeoSnapshot, slot: number, pool: string, qtype: number, ttl: number, ecs: ClientSubnet | undefined, remote: string | undefined): ClientAnswer {
    const { source, address, geo, prefix } = locateClient(this.geoip, ecs, remote, snapshot.pools.get(pool)?.longestCidrPin ?? 0);
    const scoped = address && { family: address.family, bytes: truncate(address.bytes, prefix), prefix: address.prefix };
    const v4 = scoped?.family === 4;
    const bits = v4 ? scoped.bytes.readUInt32BE(0) : 0;
    const key = v4 ? '' : `${slot}|${scoped ? networkKey(scoped, prefix) : 'unknown'}`;
    let cached = v4 ? this.ipv4Decisions.get((slot * 64 + prefix) * ADDRESS_BITS + bits) : this.otherDecisions.get(key);
    if (cached) this.cacheHit.inc();
    else {
      this.cacheMiss.inc();
      const family = qtype === Type.AAAA ? 6 : 4;
      const decision = selectEdges(snapshot, pool, family, { address: scoped, location: geo.location, networkKey: scoped ? networkKey(scoped, prefix) : 'unknown' });
      const answered = decision.noData ? undefined : this.rrset(qtype, Math.min(ttl, decision.ttl), decision.addresses);
      cached = { chosen: decision.chosen, failOpen: decision.failOpen, noData: decision.noData, rrset: answered?.rrset, shared: answered?.shared ?? this.noDataShared, answers: new Map() };
      if (v4) this.ipv4Decisions.set((slot * 64 + prefix) * ADDRESS_BITS + bits, cached);
      else this.otherDecisions.set(key, cached);
      if (decision.failOpen && this.failOpenLogged.get(pool) !== snapshot.epoch) {
        this.failOpenLogged.set(pool, snapshot.epoch);
        this.logger.warn({ pool, family, edges: decision.chosen }, 'every member of the pool looks down: answering with all of them (fail open)');
      }
    }
    const country = geo.location?.country ?? '--';
    // the answer depends on the ECS address only when it came from ECS
    const scopePrefix = source === 'ecs' ? prefix : 0;
    const answerKey = `${scopePrefix}|${country}`;
    let answer = cached.answers.get(answerKey);
    if (!answer) {
      const counters = cached.chosen.map((edge) => this.decisionCounter(pool, edge, country));
      if (cached.failOpen) counters.push(this.poolCounter(this.failOpenCounters, this.metrics.failOpen, pool));
      if (cached.noData) counters.push(this.poolCounter(this.noDataCounters, this.metrics.noData, pool));
      answer = { rrset: cached.rrset, scopePrefix, shared: cached.shared, counters };
      cached.answers.set(answerKey, answer);
    }
    return answer;
  }
}
