// Geo routing metrics, registered on the registry passed in (no globals: tests get fresh ones).

import { Counter, Gauge, type Registry } from 'prom-client';

export class GeoMetrics {
  readonly decisions: Counter<'pool' | 'edge' | 'country'>;
  readonly failOpen: Counter<'pool'>;
  readonly noData: Counter<'pool'>;
  readonly decisionCache: Counter<'result'>;
  readonly probeRtt: Gauge<'edge' | 'observer'>;
  readonly probeUp: Gauge<'edge' | 'observer'>;
  readonly edgeUp: Gauge<'edge'>;
  readonly probes: Counter<'edge' | 'result'>;
  readonly transitions: Counter<'edge' | 'to'>;
  readonly healthWrites: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.decisions = new Counter({ name: 'edgedns_geo_decisions_total', help: 'Dynamic answers, by pool, chosen edge and client country ("--" unknown)', labelNames: ['pool', 'edge', 'country'], registers });
    this.failOpen = new Counter({ name: 'edgedns_geo_fail_open_total', help: 'Answers given with every member because all looked down', labelNames: ['pool'], registers });
    this.noData = new Counter({ name: 'edgedns_geo_nodata_total', help: 'Dynamic answers with no address (no member up and no fail-open, or none of that family)', labelNames: ['pool'], registers });
    this.decisionCache = new Counter({ name: 'edgedns_geo_decision_cache_total', help: 'Selection decisions served from the cache (hit) or computed (miss)', labelNames: ['result'], registers });
    this.probeRtt = new Gauge({ name: 'edgedns_probe_rtt_seconds', help: 'EWMA probe round-trip time per edge, as each observer reports it', labelNames: ['edge', 'observer'], registers });
    this.probeUp = new Gauge({ name: 'edgedns_probe_up', help: '1 when the observer sees the edge up, 0 when down', labelNames: ['edge', 'observer'], registers });
    this.edgeUp = new Gauge({ name: 'edgedns_edge_up', help: '1 when the edge counts as up (majority of fresh observers), 0 when down', labelNames: ['edge'], registers });
    this.probes = new Counter({ name: 'edgedns_probes_total', help: 'Probes this node ran, by edge and result (ok, fail)', labelNames: ['edge', 'result'], registers });
    this.transitions = new Counter({ name: 'edgedns_probe_transitions_total', help: 'Up/down changes of this node\'s own view, after hysteresis', labelNames: ['edge', 'to'], registers });
    this.healthWrites = new Counter({ name: 'edgedns_health_writes_total', help: 'Writes of this node\'s health document, by result', labelNames: ['result'], registers });
  }
}
