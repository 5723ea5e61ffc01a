// Response rate limiting (RRL) of UDP answers, in the manner of BIND's RRL and Knot's mod-rrl: a DNS server answering
// spoofed queries reflects (and amplifies) traffic at whoever the source address names. Responses are counted per
// flow — client network (IPv4 /24, IPv6 /56), response class, and for answers the question name and type — in a
// token bucket that refills at `rate` per second and holds at most one second's worth. A response over the rate is
// dropped, except every `slip`-th, which is sent truncated (TC=1, no records) so a real client behind a spoofed
// flood still gets through by retrying over TCP. TCP is never limited: its handshake proves the source address.
//
// The name a flow is counted under is the one an attacker cannot vary freely: the question name for answers, the
// zone for NXDOMAIN, NODATA, referrals and wildcard answers (so a random-subdomain flood is one flow), none for
// errors. Buckets live in a fixed table (8-way sets: a new flow whose set is full replaces the set's stalest
// bucket), so memory is bounded whatever the traffic. The flow key is a seeded 32-bit hash: built without
// allocating, and not predictable from outside, so no one can aim a collision at another client's flow.
//
// One limiter per process: with --workers N, each worker limits what it answers itself.

import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ClientAddress, contains, parseNetwork, type Network } from './client-address.js';
import { ResponseClass, RESPONSE_CLASS_NAMES, type ResponseClassCode } from './response-class.js';

export const Verdict = { SEND: 0, DROP: 1, SLIP: 2 } as const;
export type VerdictCode = (typeof Verdict)[keyof typeof Verdict];

export interface RrlOptions {
  /** Responses per second per flow (> 0). */
  rate: number;
  /** Every slip-th limited response is sent truncated; 0: all are dropped. */
  slip: number;
  /** Networks never limited (CIDR text). */
  whitelist: string[];
  /** Buckets in the table; rounded up to a power of two, at least 8 (default 65,536: 2.3 MiB). */
  tableSize?: number;
  registry: Registry;
  logger: Logger;
}

export const DEFAULT_TABLE_SIZE = 65_536;
const PROBES = 8;
/** At most one log line per limited network, and per flow, this often. */
const LOG_INTERVAL_MS = 5_000;
const MAX_LOGGED_NETWORKS = 4_096;
const STRIDE = 4;
const TOKENS = 0;
const STAMP = 1;
const LIMITED = 2;
const LOGGED = 3;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function mix(h: number, value: number): number {
  return Math.imul(h ^ value, 0x01000193);
}

export class ResponseRateLimiter {
  private readonly rate: number;
  private readonly slip: number;
  private readonly whitelist: Network[];
  private readonly mask: number;
  private readonly seed = randomInt(1, 0x7fffffff);
  private readonly address = new ClientAddress();
  /** Flow keys, probed together: one cache line holds a whole probe window. */
  private readonly keys: Uint32Array;
  /** Per slot, side by side so one cache line holds them: tokens, last refill (ms), limited count, last logged (ms). */
  private readonly buckets: Float64Array;
  private readonly loggedNetworks = new Map<string, number>();
  private readonly logger: Logger;
  /** Per class: [dropped, slipped]. */
  private readonly limitedCounts = new Float64Array(RESPONSE_CLASS_NAMES.length * 2);
  private entries = 0;
  private evictionCount = 0;

  constructor(options: RrlOptions) {
    if (!(options.rate > 0)) throw new RangeError('RRL rate must be above 0');
    this.rate = options.rate;
    this.slip = options.slip;
    this.whitelist = options.whitelist.map(parseNetwork);
    this.logger = options.logger;
    let size = PROBES;
    while (size < (options.tableSize ?? DEFAULT_TABLE_SIZE)) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint32Array(size);
    this.buckets = new Float64Array(size * STRIDE);
    this.registerMetrics(options.registry);
  }

  /**
   * What to do with a UDP response to `remote`: send it, drop it, or send it truncated. `name` is the flow's name
   * (see the file comment; ignored for errors), `now` a performance.now() reading.
   */
  check(remote: string, responseClass: ResponseClassCode, name: string, qtype: number, now: number): VerdictCode {
    const address = this.address;
    if (!address.parse(remote)) return Verdict.SEND;
    for (let i = 0; i < this.whitelist.length; i++) if (contains(this.whitelist[i], address)) return Verdict.SEND;

    let h = this.seed;
    if (address.family === 4) h = mix(mix(h, 4), address.v4 >>> 8);
    else {
      const w = address.v6;
      h = mix(mix(mix(mix(mix(h, 6), w[0]), w[1]), w[2]), w[3] & 0xff00);
    }
    h = mix(h, responseClass);
    if (responseClass !== ResponseClass.ERROR) {
      if (responseClass === ResponseClass.ANSWER || responseClass === ResponseClass.WILDCARD) h = mix(h, qtype);
      for (let i = 0; i < name.length; i++) h = mix(h, name.charCodeAt(i));
    }
    const key = fmix(h) || 1;

    const b = this.find(key, now) * STRIDE;
    const buckets = this.buckets;
    let tokens = buckets[b + TOKENS] + ((now - buckets[b + STAMP]) * this.rate) / 1000;
    if (tokens > this.rate) tokens = this.rate;
    buckets[b + STAMP] = now;
    if (tokens >= 1) {
      buckets[b + TOKENS] = tokens - 1;
      return Verdict.SEND;
    }
    buckets[b + TOKENS] = tokens;
    const limited = ++buckets[b + LIMITED];
    const slipped = this.slip > 0 && limited % this.slip === 0;
    this.limitedCounts[responseClass * 2 + (slipped ? 1 : 0)]++;
    if (now - buckets[b + LOGGED] >= LOG_INTERVAL_MS) {
      buckets[b + LOGGED] = now;
      this.logLimited(responseClass, name, now);
    }
    return slipped ? Verdict.SLIP : Verdict.DROP;
  }

  /** The slot holding `key`, else a fresh one for it (an empty slot, or the stalest in the probe window). */
  private find(key: number, now: number): number {
    const { keys, buckets, mask } = this;
    // the window starts at a multiple of PROBES, so it never straddles a cache line
    const start = key & mask & ~(PROBES - 1);
    for (let p = 0; p < PROBES; p++) {
      const held = keys[start + p];
      if (held === key) return start + p;
      if (held === 0) {
        this.entries++;
        return this.claim(start + p, key, now);
      }
    }
    let stalest = start;
    for (let p = 1; p < PROBES; p++) if (buckets[(start + p) * STRIDE + STAMP] < buckets[stalest * STRIDE + STAMP]) stalest = start + p;
    this.evictionCount++;
    return this.claim(stalest, key, now);
  }

  private claim(slot: number, key: number, now: number): number {
    this.keys[slot] = key;
    const b = slot * STRIDE;
    this.buckets[b + TOKENS] = this.rate;
    this.buckets[b + STAMP] = now;
    this.buckets[b + LIMITED] = 0;
    this.buckets[b + LOGGED] = -Infinity;
    return slot;
  }

  private logLimited(responseClass: ResponseClassCode, name: string, now: number): void {
    const network = this.networkText();
    const last = this.loggedNetworks.get(network);
    if (last !== undefined && now - last < LOG_INTERVAL_MS) return;
    if (this.loggedNetworks.size >= MAX_LOGGED_NETWORKS) this.loggedNetworks.clear();
    this.loggedNetworks.set(network, now);
    this.logger.warn(
      { network, class: RESPONSE_CLASS_NAMES[responseClass], name: responseClass === ResponseClass.ERROR ? undefined : name, rate: this.rate, slip: this.slip },
      'response rate limit: dropping or truncating UDP answers to this network',
    );
  }

  /** The limited network of the address parsed last: "192.0.2.0/24" or "2001:db8:0:100::/56". */
  private networkText(): string {
    const a = this.address;
    if (a.family === 4) return `${a.v4 >>> 24}.${(a.v4 >>> 16) & 255}.${(a.v4 >>> 8) & 255}.0/24`;
    const w = a.v6;
    return `${w[0].toString(16)}:${w[1].toString(16)}:${w[2].toString(16)}:${(w[3] & 0xff00).toString(16)}::/56`;
  }

  private registerMetrics(registry: Registry): void {
    const counts = this.limitedCounts;
    const limited = new Counter({
      name: 'edgedns_dns_rrl_limited_total',
      help: 'UDP responses over the rate limit, by response class and what was done (dropped, or slipped: sent truncated)',
      labelNames: ['class', 'action'],
      registers: [registry],
      collect() {
        limited.reset();
        RESPONSE_CLASS_NAMES.forEach((name, c) => {
          limited.labels(name, 'dropped').inc(counts[c * 2]);
          limited.labels(name, 'slipped').inc(counts[c * 2 + 1]);
        });
      },
    });
    const self = this;
    const evictions = new Counter({
      name: 'edgedns_dns_rrl_evictions_total',
      help: 'Rate-limit buckets replaced because the table was full around their slot',
      registers: [registry],
      collect() {
        evictions.reset();
        evictions.inc(self.evictionCount);
      },
    });
    new Gauge({
      name: 'edgedns_dns_rrl_table_entries',
      help: 'Rate-limit buckets in use (the table holds a fixed number)',
      registers: [registry],
      collect() {
        this.set(self.entries);
      },
    });
  }
}
