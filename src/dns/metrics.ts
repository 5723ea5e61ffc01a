// DNS counters. Label children are looked up once per label combination and kept, so counting a query is a
// Map lookup and an add, not prom-client's label hashing on every query.

import { Counter, Histogram, type Registry } from 'prom-client';
import { rcodeName, typeName } from './constants.js';

export type Transport = 'udp' | 'tcp';

/** Query types outside this set are counted as "other" so random qtypes cannot grow the label space. */
const COUNTED_TYPES = new Set(['A', 'NS', 'CNAME', 'SOA', 'PTR', 'HINFO', 'MX', 'TXT', 'AAAA', 'SRV', 'DS', 'DNSKEY', 'CAA', 'ANY', 'AXFR', 'IXFR', 'NSEC', 'RRSIG', 'HTTPS', 'SVCB']);

export class DnsMetrics {
  private readonly queries: Counter<'transport' | 'qtype' | 'rcode'>;
  private readonly latency: Histogram<'transport'>;
  private readonly dropped: Counter<'reason'>;
  private readonly failures: Counter;
  private readonly truncated: Counter<'transport'>;
  private readonly children = new Map<string, { inc(): void }>();
  private readonly latencyChildren = new Map<string, { observe(v: number): void }>();

  constructor(registry: Registry) {
    this.queries = new Counter({
      name: 'edgedns_dns_queries_total',
      help: 'DNS queries answered, by transport, query type and response code',
      labelNames: ['transport', 'qtype', 'rcode'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'edgedns_dns_answer_seconds',
      help: 'Time from a query arriving to its answer being handed to the socket',
      labelNames: ['transport'],
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
      registers: [registry],
    });
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

  answered(transport: Transport, qtype: number, rcode: number, seconds: number): void {
    const type = qtype < 0 ? 'none' : typeName(qtype);
    const key = `${transport} ${type} ${rcode}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.queries.labels(transport, COUNTED_TYPES.has(type) || type === 'none' ? type : 'other', rcodeName(rcode));
      this.children.set(key, child);
    }
    child.inc();
    let histogram = this.latencyChildren.get(transport);
    if (!histogram) {
      histogram = this.latency.labels(transport);
      this.latencyChildren.set(transport, histogram);
    }
    histogram.observe(seconds);
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
