// The Node process's own metrics (CPU, memory, event loop, GC), as prom-client collects them, under the names
// Prometheus's conventions expect: `edgedns_process_cpu_seconds_total`, `edgedns_nodejs_heap_size_used_bytes`. Two
// things are taken out of prom-client's defaults: a doubled prefix (`edgedns_process_` + `process_…` gave
// `edgedns_process_process_cpu_seconds_total`), and the three gauges `nodejs_active_{handles,requests,resources}_total`,
// which `promtool check metrics` refuses (a `_total` suffix means a counter); their per-type gauges stay, and
// `sum(edgedns_nodejs_active_handles)` gives the same total.

import { collectDefaultMetrics, type Registry } from 'prom-client';

export const PROCESS_METRICS_PREFIX = 'edgedns_';

const MISNAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Names of process-level metrics: with --workers, each process reports its own under a `process` label. */
export const PER_PROCESS_METRIC = /^edgedns_(?:process|nodejs)_/;

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: PROCESS_METRICS_PREFIX });
  for (const name of MISNAMED_GAUGES) registry.removeSingleMetric(PROCESS_METRICS_PREFIX + name);
}
