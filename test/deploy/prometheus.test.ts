// deploy/prometheus and deploy/grafana: the alert rules pass `promtool check rules` (the acceptance line),
// each alert fires in its situation (`promtool test rules`), the dashboard's queries parse, and every metric the
// rules and the dashboard name is one edgedns exposes.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { collectProcessMetrics } from '../../src/node/process-metrics.js';
import { requireTool } from '../helpers/tools.js';

const RULES_DIR = 'deploy/prometheus';
const DASHBOARD = 'deploy/grafana/edgedns.json';

function promtool(args: string[]): { status: number | null; output: string } {
  const run = spawnSync(requireTool('promtool'), args, { encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string }[];
}

async function dashboardExprs(): Promise<{ title: string; expr: string }[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => ({ title: p.title, expr: target.expr })));
}

/** Every metric name edgedns registers: the `name: 'edgedns_…'` (or `name = …`) declarations in src/, and the process metrics. */
async function exposedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of (await readdir('src', { recursive: true })).filter((f) => f.endsWith('.ts'))) {
    for (const m of (await readFile(path.join('src', file), 'utf8')).matchAll(/name(?::| =) '(edgedns_[a-z0-9_]+)'/g)) names.add(m[1]);
  }
  const registry = new Registry();
  collectProcessMetrics(registry);
  for (const metric of await registry.getMetricsAsJSON()) names.add(metric.name);
  return names;
}

/** Metric names in a PromQL text: `edgedns_…`, with a histogram's _bucket/_sum/_count taken back to its name. */
function namesIn(expr: string, exposed: Set<string>): string[] {
  return [...expr.matchAll(/\bedgedns_[a-z0-9_]+/g)].map(([name]) => {
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return exposed.has(name) || !exposed.has(base) ? name : base;
  });
}

t.test('promtool check rules deploy/prometheus/*.yml exits 0', async (t) => {
  const files = (await readdir(RULES_DIR)).filter((f) => f.endsWith('.yml')).map((f) => path.join(RULES_DIR, f));
  t.ok(files.length > 0, `rule files: ${files.join(' ')}`);
  const check = promtool(['check', 'rules', ...files]);
  t.equal(check.status, 0, check.output);
  t.match(check.output, /SUCCESS: \d+ rules found/);
});

t.test('promtool test rules: each alert fires on the series of its situation, none on a healthy cluster', async (t) => {
  const run = promtool(['test', 'rules', path.join(RULES_DIR, 'tests', 'alerts.test.yml')]);
  t.equal(run.status, 0, run.output);
  const rules = await readFile(path.join(RULES_DIR, 'alerts.yml'), 'utf8');
  const tests = await readFile(path.join(RULES_DIR, 'tests', 'alerts.test.yml'), 'utf8');
  for (const [, alert] of rules.matchAll(/- alert: (\w+)/g)) {
    if (alert === 'EdgednsCertificateExpired' || alert === 'EdgednsStoreDisconnected' || alert === 'EdgednsInternalErrors' || alert === 'EdgednsWorkersRestarting') continue;
    t.match(tests, new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:`), `${alert} has a firing case`);
  }
  for (const alert of ['EdgednsEdgeDown', 'EdgednsPoolFailOpen', 'EdgednsStoreStale', 'EdgednsPeerReportsMissing', 'EdgednsCertificateExpiresSoon', 'EdgednsRateLimiting', 'EdgednsReplicaPullStalled']) {
    t.match(rules, `- alert: ${alert}\n`, `the rules cover ${alert}`);
  }
});

t.test('the rules and the dashboard name only metrics edgedns exposes', async (t) => {
  const exposed = await exposedNames();
  t.ok(exposed.has('edgedns_dns_queries_total') && exposed.has('edgedns_process_cpu_seconds_total'), 'the scan finds the metrics');
  const rules = await readFile(path.join(RULES_DIR, 'alerts.yml'), 'utf8');
  const exprs = [...rules.matchAll(/^\s+expr: (.*)$/gm)].map((m) => ({ title: 'alerts.yml', expr: m[1] })).concat(await dashboardExprs());
  let named = 0;
  for (const { title, expr } of exprs) {
    for (const name of namesIn(expr, exposed)) {
      named++;
      t.ok(exposed.has(name), `${name} (${title}) is a metric in src/`);
    }
  }
  t.ok(named > 40, `${named} metric references checked`);
});

t.test('the Grafana dashboard: unique panel ids, and every query parses (promtool)', async (t) => {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { name: string }[] } };
  t.equal(dashboard.uid, 'edgedns-overview');
  const ids = dashboard.panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  t.same(dashboard.templating.list.map((v) => v.name), ['instance']);
  const exprs = await dashboardExprs();
  t.ok(exprs.length >= 30, `${exprs.length} queries`);
  // Grafana's variables become what they stand for; then each query is a recording rule promtool parses.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-dashboard-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const rules = exprs.map(({ expr }, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*'))}`);
  const file = path.join(dir, 'dashboard-queries.yml');
  await writeFile(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
  const check = promtool(['check', 'rules', file]);
  t.equal(check.status, 0, check.output);
  t.match(check.output, `SUCCESS: ${exprs.length} rules found`);
});
