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

const BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01];

export class DnsMetrics {
  private readonly queryCounts = new Float64Array(TRANSPORTS.length * COUNTED_TYPES.length * RCODES);
  /** Per transport: one slot per bucket plus +Inf. */
  private readonly bucketCounts = new Float64Array(TRANSPORTS.length * (BUCKETS.length + 1));
  private readonly latencySum = new Float64Array(TRANSPORTS.length);
  private readonly dropped: Counter<'reason'>;
  private readonly failures: Counter;
  private readonly truncated: Counter<'transport'>;

  constructor(registry: Registry) {
    const queryCounts = this.queryCounts;
    const queries = new Counter({
      name: 'edgedns_dns_queries_total',
      help: 'DNS queries answered, by transport, query type and response code',
      labelNames: ['transport', 'qtype', 'rcode'],
      registers: [registry],
      collect() {
        queries.reset();
        for (let i = 0; i < queryCounts.length; i++) {
          if (queryCounts[i] === 0) continue;
          const rcode = i % RCODES;
          const type = Math.floor(i / RCODES) % COUNTED_TYPES.length;
          const transport = Math.floor(i / RCODES / COUNTED_TYPES.length);
          queries.labels(TRANSPORTS[transport], COUNTED_TYPES[type], rcodeName(rcode)).inc(queryCounts[i]);
        }
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

  answered(transport: Transport, qtype: number, rcode: number, seconds: number): void {
    const t = transport === 'udp' ? 0 : 1;
    const slot = qtype < 0 ? 0 : (TYPE_SLOT.get(qtype) ?? 1);
    this.queryCounts[(t * COUNTED_TYPES.length + slot) * RCODES + (rcode & 31)]++;
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
