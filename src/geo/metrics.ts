// Geo routing metrics, registered on the registry passed in (no globals: tests get fresh ones).

import { Counter, Gauge, type LabelValues, type Registry } from 'prom-client';

/** One label combination of a HotCounter: a plain number the query path adds to. */
class Tally {
  count = 0;
  constructor(readonly values: string[]) {}
  inc(): void {
    this.count++;
  }
}

/**
 * A counter added to on every query. prom-client's own inc() hashes its labels on each call, a third of the cost of
 * a cached geo answer; here a child is a plain number and prom-client sees the totals when /metrics is scraped.
 */
export class HotCounter<T extends string> {
  private readonly tallies = new Map<string, Tally>();

  constructor(options: { name: string; help: string; labelNames: T[]; registry: Registry }) {
    const { labelNames } = options;
    const tallies = this.tallies;
    const counter: Counter<T> = new Counter({
      name: options.name,
      help: options.help,
      labelNames,
      registers: [options.registry],
      collect() {
        counter.reset();
        for (const tally of tallies.values()) {
          if (tally.count === 0) continue;
          const labels: Record<string, string> = {};
          labelNames.forEach((name, i) => (labels[name] = tally.values[i]));
          counter.inc(labels as LabelValues<T>, tally.count);
        }
      },
    });
  }

  /** The child for these label values, in labelNames order; keep it, and call inc() on it per query. */
  labels(...values: string[]): { inc(): void } {
    const key = values.join('\0');
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = new Tally(values);
      this.tallies.set(key, tally);
    }
    return tally;
  }
}

export class GeoMetrics {
  readonly decisions: HotCounter<'pool' | 'edge' | 'country'>;
  readonly failOpen: HotCounter<'pool'>;
  readonly noData: HotCounter<'pool'>;
  readonly decisionCache: HotCounter<'result'>;
  readonly probeRtt: Gauge<'edge' | 'observer'>;
  readonly probeUp: Gauge<'edge' | 'observer'>;
  readonly edgeUp: Gauge<'edge'>;
  readonly probes: Counter<'edge' | 'result'>;
  readonly transitions: Counter<'edge' | 'to'>;
  readonly healthWrites: Counter<'result'>;
  readonly penalty: Gauge<'edge'>;
  readonly steadyMoves: Counter<'edge' | 'direction'>;
  readonly snapshots: Counter<'decisions'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.decisions = new HotCounter({ name: 'edgedns_geo_decisions_total', help: 'Dynamic answers, by pool, chosen edge and client country ("--" unknown)', labelNames: ['pool', 'edge', 'country'], registry });
    this.failOpen = new HotCounter({ name: 'edgedns_geo_fail_open_total', help: 'Answers given with every member because all looked down', labelNames: ['pool'], registry });
    this.noData = new HotCounter({ name: 'edgedns_geo_nodata_total', help: 'Dynamic answers with no address (no member up and no fail-open, or none of that family)', labelNames: ['pool'], registry });
    this.decisionCache = new HotCounter({ name: 'edgedns_geo_decision_cache_total', help: 'Selection decisions served from the cache (hit) or computed (miss)', labelNames: ['result'], registry });
    this.probeRtt = new Gauge({ name: 'edgedns_probe_rtt_seconds', help: 'EWMA probe round-trip time per edge, as each observer reports it', labelNames: ['edge', 'observer'], registers });
    this.probeUp = new Gauge({ name: 'edgedns_probe_up', help: '1 when the observer sees the edge up, 0 when down', labelNames: ['edge', 'observer'], registers });
    this.edgeUp = new Gauge({ name: 'edgedns_edge_up', help: '1 when the edge counts as up (majority of fresh observers), 0 when down', labelNames: ['edge'], registers });
    this.probes = new Counter({ name: 'edgedns_probes_total', help: 'Probes this node ran, by edge and result (ok, fail)', labelNames: ['edge', 'result'], registers });
    this.transitions = new Counter({ name: 'edgedns_probe_transitions_total', help: 'Up/down changes of this node\'s own view, after hysteresis', labelNames: ['edge', 'to'], registers });
    this.healthWrites = new Counter({ name: 'edgedns_health_writes_total', help: 'Writes of this node\'s health document, by result', labelNames: ['result'], registers });
    this.penalty = new Gauge({ name: 'edgedns_edge_penalty_seconds', help: 'What the edge\'s route adds to its expected latency: the median of the fresh observers\' penalties, the same on every node', labelNames: ['edge'], registers });
    this.steadyMoves = new Counter({ name: 'edgedns_probe_steady_rtt_moves_total', help: 'Times this node\'s steady RTT to an edge moved after a change outlasted the margin (up, down)', labelNames: ['edge', 'direction'], registers });
    this.snapshots = new Counter({ name: 'edgedns_geo_snapshots_total', help: 'Geo snapshots built, by whether they could change a decision (new: answer caches emptied) or not (same)', labelNames: ['decisions'], registers });
  }
}
