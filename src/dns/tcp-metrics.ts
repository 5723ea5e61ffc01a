// DNS-over-TCP connection counters: how many are open, how many were accepted, and why each one closed. Plain
// numbers on the connection path, handed to prom-client when /metrics is scraped (like metrics.ts).

import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a TCP connection ended; one label value each. */
export const TCP_CLOSE_REASONS = [
  /** The client closed it, or reset it. */
  'client',
  /** No message began within the idle timeout (after the connection opened or after the last answer). */
  'idle-timeout',
  /** A message was not complete within the message timeout of its first octet: a trickling client. */
  'message-timeout',
  /** Refused on arrival: the client's address already held its share of connections, none of them idle. */
  'per-address-limit',
  /** Closed to make room for a new connection: the oldest idle connection goes first ... */
  'evicted-idle',
  /** ... then, when none is idle, the one whose unfinished message began longest ago (or just opened: the last). */
  'evicted-busy',
  /** The message was garbage (not a query): nothing sensible to answer, so the connection ends. */
  'malformed',
  /** A socket error other than the client's reset. */
  'error',
  /** The server stopped. */
  'shutdown',
] as const;

export type TcpCloseReason = (typeof TCP_CLOSE_REASONS)[number];

const REASON_SLOT = new Map<TcpCloseReason, number>(TCP_CLOSE_REASONS.map((r, i) => [r, i]));

export class TcpMetrics {
  private readonly closedCounts = new Float64Array(TCP_CLOSE_REASONS.length);
  private acceptedCount = 0;
  /** Read at scrape time: the server's current number of open connections. */
  /** One source of open connections per TCP listener of the process (one per --dns address). */
  private readonly openSources = new Set<() => number>();

  constructor(registry: Registry) {
    const counts = this.closedCounts;
    const closed = new Counter({
      name: 'edgedns_dns_tcp_closed_total',
      help: 'DNS-over-TCP connections closed, by reason (client, idle-timeout, message-timeout, per-address-limit, evicted-idle, evicted-busy, malformed, error, shutdown)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        closed.reset();
        TCP_CLOSE_REASONS.forEach((reason, i) => closed.labels(reason).inc(counts[i]));
      },
    });
    const metrics = this;
    const accepted = new Counter({
      name: 'edgedns_dns_tcp_accepted_total',
      help: 'DNS-over-TCP connections accepted (including those refused at once by the per-address limit)',
      registers: [registry],
      collect() {
        accepted.reset();
        accepted.inc(metrics.acceptedCount);
      },
    });
    new Gauge({
      name: 'edgedns_dns_tcp_connections',
      help: 'DNS-over-TCP connections open now',
      registers: [registry],
      collect() {
        this.set(metrics.openConnections());
      },
    });
  }

  /** Open connections of every listener that reports here. */
  openConnections(): number {
    let open = 0;
    for (const source of this.openSources) open += source();
    return open;
  }

  /** A listener's count of its open connections; the returned function stops counting it (listener closed). */
  countOpen(source: () => number): () => void {
    this.openSources.add(source);
    return () => this.openSources.delete(source);
  }

  accepted(): void {
    this.acceptedCount++;
  }

  closed(reason: TcpCloseReason): void {
    this.closedCounts[REASON_SLOT.get(reason)!]++;
  }
}
