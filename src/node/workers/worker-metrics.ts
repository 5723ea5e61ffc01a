// One /metrics for a node with DNS workers. The primary's registry is the node's; from each worker it takes what
// only workers count (queries, answer latency, geo decisions, GeoIP lookups), summed over workers, and each
// process's own resource metrics, labelled by process. A worker's copy of primary-side state (zones, store, edges
// up) would only count the same thing again, so it is left out.

import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { WorkerMetrics } from './protocol.js';
import { PER_PROCESS_METRIC } from '../process-metrics.js';

/** Metrics counted where queries are answered: summed over the workers (and the primary, which has none). */
const ANSWER_SIDE = /^edgedns_(dns_|geo_decision|geo_fail_open_total$|geo_nodata_total$|geoip_lookups_total$)/;
const PER_PROCESS = PER_PROCESS_METRIC;

type Metric = MetricObjectWithValues<MetricValue<string>>;

function labelled(metric: Metric, process: string): Metric {
  return { ...metric, values: metric.values.map((v) => ({ ...v, labels: { ...v.labels, process } })) };
}

/** The lists to hand to AggregatorRegistry.aggregate(), which sums values with equal names and labels. */
export function mergeWorkerMetrics(primary: Metric[], workers: { index: number; metrics: WorkerMetrics }[]): Metric[][] {
  const lists: Metric[][] = [primary.map((m) => (PER_PROCESS.test(m.name) ? labelled(m, 'primary') : m))];
  for (const { index, metrics } of workers) {
    lists.push(metrics.filter((m) => ANSWER_SIDE.test(m.name) || PER_PROCESS.test(m.name)).map((m) => (PER_PROCESS.test(m.name) ? labelled(m, `worker-${index}`) : m)));
  }
  return lists;
}
