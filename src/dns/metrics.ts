// DNS counters. The hot path only adds to plain typed arrays indexed by small integers; prom-client sees the
// totals when /metrics is scraped (collect hooks). prom-client's own inc()/observe() hash their labels on every
// call, which cost about a quarter of the time of answering a query.

import { Counter, type Histogram, type Registry } from 'prom-client';
import { rcodeName, typeName } from '../proto/constants.js';

export type Transport = 'udp' | 'tcp';

const TRANSPORTS: Transport[] = ['udp', 'tcp'];

/** Query types counted under their own label; everything else is "other", so random qtypes cannot grow the labels. */
const COUNTED_TYPES = ['none', 'other', 'A', 'NS', 'CNAME', 'SOA', 'PTR', 'HINFO', 'MX', 'TXT', 'AAAA', 'SRV', 'DS', 'DNSKEY', 'CAA', 'ANY', 'AXFR', 'IXFR', 'NSEC', 'RRSIG', 'SVCB', 'HTTPS'];
const TYPE_SLOT = new Map<number, number>();
for (let code = 0; code < 65536; code++) {
  const slot = COUNTED_TYPES.indexOf(typeName(code));
  if (slot >= 0) TYPE_SLOT.set(code, slot);
}
const RCODES = 32;

/** The client's address family: from the source address (an IPv4-mapped IPv6 address is IPv4). */
const FAMILIES = ['ipv4', 'ipv6', 'unknown'];
const IPV4 = 0;
const IPV6 = 1;
const NO_ADDRESS = 2;

/** EDNS features of queries, in slot order: an OPT record at all, then what it carries. */
const EDNS_FEATURES = ['opt', 'do', 'ecs', 'nsid'];

/** The zone label of queries for names outside every served zone, CHAOS queries and unreadable questions. */
export const OTHER_ZONE = 'other';

/** ipv4, ipv6 or unknown: a few character tests, no parsing (the hot path calls this for every query). */
function familyOf(remote: string | undefined): number {
  if (remote === undefined) return NO_ADDRESS;
  if (remote.indexOf(':') === -1) return IPV4;
  return remote.startsWith('::ffff:') && remote.indexOf('.') !== -1 ? IPV4 : IPV6;
}

/** What the handler knows about a query's EDNS: the reader's Edns, or nothing. */
export interface EdnsSeen {
  dnssecOk: boolean;
  ecs?: unknown;
  nsid?: boolean;
}

export interface DnsMetricsOptions {
  /** The zones served now: at scrape time, the per-zone counts of zones no longer served are forgotten. */
  servedZones?: () => Iterable<string>;
}

const BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01];

export class DnsMetrics {
  private readonly queryCounts = new Float64Array(TRANSPORTS.length * FAMILIES.length * COUNTED_TYPES.length * RCODES);
  /** Per served zone (apex key), one count per rcode; zones are few and known, so the map is bounded. */
  private readonly zoneCounts = new Map<string, Float64Array>();
  private readonly otherZoneCounts = new Float64Array(RCODES);
  private readonly ednsCounts = new Float64Array(EDNS_FEATURES.length);
  /** Per transport: one slot per bucket plus +Inf. */
  private readonly bucketCounts = new Float64Array(TRANSPORTS.length * (BUCKETS.length + 1));
  private readonly latencySum = new Float64Array(TRANSPORTS.length);
  private readonly dropped: Counter<'reason'>;
  private readonly failures: Counter;
  private readonly truncated: Counter<'transport'>;

  constructor(registry: Registry, options: DnsMetricsOptions = {}) {
    const { queryCounts, zoneCounts, otherZoneCounts, ednsCounts } = this;
    const queries = new Counter({
      name: 'edgedns_dns_queries_total',
      help: 'DNS queries answered, by transport, client address family, query type and response code',
      labelNames: ['transport', 'family', 'qtype', 'rcode'],
      registers: [registry],
      collect() {
        queries.reset();
        for (let i = 0; i < queryCounts.length; i++) {
          if (queryCounts[i] === 0) continue;
          const rcode = i % RCODES;
          const type = Math.floor(i / RCODES) % COUNTED_TYPES.length;
          const family = Math.floor(i / RCODES / COUNTED_TYPES.length) % FAMILIES.length;
          const transport = Math.floor(i / RCODES / COUNTED_TYPES.length / FAMILIES.length);
          queries.labels(TRANSPORTS[transport], FAMILIES[family], COUNTED_TYPES[type], rcodeName(rcode)).inc(queryCounts[i]);
        }
      },
    });
    const byZone = new Counter({
      name: 'edgedns_dns_zone_queries_total',
      help: `DNS queries answered per served zone and response code; zone="${OTHER_ZONE}": names outside every served zone (REFUSED), CHAOS, unreadable questions`,
      labelNames: ['zone', 'rcode'],
      registers: [registry],
      collect() {
        byZone.reset();
        if (options.servedZones) {
          const served = new Set(options.servedZones());
          for (const zone of zoneCounts.keys()) if (!served.has(zone)) zoneCounts.delete(zone);
        }
        const add = (zone: string, counts: Float64Array): void => {
          for (let rcode = 0; rcode < RCODES; rcode++) if (counts[rcode] > 0) byZone.labels(zone, rcodeName(rcode)).inc(counts[rcode]);
        };
        for (const [zone, counts] of zoneCounts) add(zone, counts);
        add(OTHER_ZONE, otherZoneCounts);
      },
    });
    const edns = new Counter({
      name: 'edgedns_dns_edns_queries_total',
      help: 'DNS queries with EDNS (feature="opt": an OPT record) and, among them, the DNSSEC OK bit (do), a client-subnet option (ecs), an NSID request (nsid)',
      labelNames: ['feature'],
      registers: [registry],
      collect() {
        edns.reset();
        EDNS_FEATURES.forEach((feature, i) => edns.labels(feature).inc(ednsCounts[i]));
      },
    });
    // The registry only calls get() and reset(); its typing asks for prom-client's own classes.
    registry.registerMetric(this.latencyHistogram() as unknown as Histogram);
    this.dropped = new Counter({
      name: 'edgedns_dns_dropped_total',
      help: 'Incoming messages not answered at all (not a query, too short to answer)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'edgedns_dns_internal_errors_total',
      help: 'Queries that hit an internal error and were answered SERVFAIL',
      registers: [registry],
    });
    this.truncated = new Counter({
      name: 'edgedns_dns_truncated_total',
      help: 'Responses sent with TC set because they did not fit the client limit',
      labelNames: ['transport'],
      registers: [registry],
    });
  }

  /** A histogram in prom-client's metric shape, read from our arrays at scrape time. */
  private latencyHistogram() {
    const name = 'edgedns_dns_answer_seconds';
    const { bucketCounts, latencySum } = this;
    const width = BUCKETS.length + 1;
    return {
      name,
      help: 'Time from a query arriving to its answer being handed to the socket',
      type: 'histogram' as const,
      aggregator: 'sum' as const,
      get: async () => {
        const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
        TRANSPORTS.forEach((transport, t) => {
          let cumulative = 0;
          for (let b = 0; b < width; b++) {
            cumulative += bucketCounts[t * width + b];
            values.push({ labels: { le: b < BUCKETS.length ? BUCKETS[b] : '+Inf', transport }, value: cumulative, metricName: `${name}_bucket` });
          }
          values.push({ labels: { transport }, value: latencySum[t], metricName: `${name}_sum` });
          values.push({ labels: { transport }, value: cumulative, metricName: `${name}_count` });
        });
        return { name, help: 'Time from a query arriving to its answer being handed to the socket', type: 'histogram' as const, values, aggregator: 'sum' as const };
      },
      reset: () => {
        bucketCounts.fill(0);
        latencySum.fill(0);
      },
    };
  }

  /**
   * One answered query. `zone` is the apex key of the served zone it fell in (none: outside every zone, CHAOS, an
   * unreadable question); `remote` the client's address, `edns` what its OPT record carried.
   */
  answered(transport: Transport, qtype: number, rcode: number, seconds: number, remote?: string, edns?: EdnsSeen, zone?: string): void {
    const t = transport === 'udp' ? 0 : 1;
    const slot = qtype < 0 ? 0 : (TYPE_SLOT.get(qtype) ?? 1);
    const code = rcode & 31;
    this.queryCounts[((t * FAMILIES.length + familyOf(remote)) * COUNTED_TYPES.length + slot) * RCODES + code]++;
    if (zone === undefined) this.otherZoneCounts[code]++;
    else {
      let counts = this.zoneCounts.get(zone);
      if (counts === undefined) this.zoneCounts.set(zone, (counts = new Float64Array(RCODES)));
      counts[code]++;
    }
    if (edns !== undefined) {
      const c = this.ednsCounts;
      c[0]++;
      if (edns.dnssecOk) c[1]++;
      if (edns.ecs !== undefined) c[2]++;
      if (edns.nsid === true) c[3]++;
    }
    let b = 0;
    while (b < BUCKETS.length && seconds > BUCKETS[b]) b++;
    this.bucketCounts[t * (BUCKETS.length + 1) + b]++;
    this.latencySum[t] += seconds;
  }

  drop(reason: string): void {
    this.dropped.labels(reason).inc();
  }

  internalError(): void {
    this.failures.inc();
  }

  truncation(transport: Transport): void {
    this.truncated.labels(transport).inc();
  }
}
