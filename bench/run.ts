// npm run bench: knotd, the bare Node responder and edgedns serve the same zone on loopback, each pinned to its own
// CPU, and dnsperf loads them from another CPU. Prints a table with the ratios and writes bench/results/latest.md.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_ZONE, writeBenchZone, writeQueries } from './data.js';
import { CORES, PINNING } from './cpu.js';
import { measure, SECONDS, type Row } from './measure.js';
import { startEdgedns, startKnotd, startNodeResponder, type BenchServer } from './servers.js';
import { geoScenario } from './geo.js';

/** Workers compared in the multi-core rows (BENCH_WORKERS). */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);

function ensureTools(): void {
  const missing = ['dnsperf', 'knotd'].filter((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}: run apt-get install -y dnsperf knot`);
  process.stdout.write(`installing ${missing.join(', ')} (apt-get install -y dnsperf knot)\n`);
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsperf knot >/dev/null'], { stdio: 'inherit' });
}

function format(rows: Row[]): string {
  const lines = ['| server | mix | queries/s | avg ms | p99 ms | lost | server CPU |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.server} | ${r.mix} | ${Math.round(r.result.qps)} | ${r.result.avgLatencyMs.toFixed(3)} | ${r.result.p99Ms?.toFixed(3) ?? '-'} | ${r.result.lost} of ${r.result.sent} | ${r.cpuPercent.toFixed(0)}% |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  ensureTools();
  const work = mkdtempSync(path.join(os.tmpdir(), 'edgedns-bench-'));
  const rows: Row[] = [];
  const ratios: string[] = [];
  const servers: BenchServer[] = [];
  let workersNote = '';
  try {
    const zoneFile = writeBenchZone(work);
    const staticQueries = writeQueries(work, 'static', 20_000, 0);
    // large enough that the random names do not come round again within a run: answer caches get no help
    const nxQueries = writeQueries(work, 'nxdomain10', 1_000_000, 0.1);
    process.stdout.write(`bench: ${CORES} cores, ${PINNING ? 'server on CPU 0, dnsperf on CPU 1' : 'no CPU pinning'}, ${SECONDS} s per run\n`);

    const peak = new Map<string, number>();
    for (const start of [() => startKnotd(BENCH_ZONE, zoneFile), () => startNodeResponder(BENCH_ZONE, zoneFile), () => startEdgedns(BENCH_ZONE, [zoneFile], work)]) {
      const server = await start();
      servers.push(server);
      const s = await measure(server, 'static', staticQueries);
      const n = await measure(server, 'static + 10% NXDOMAIN', nxQueries);
      rows.push(s, n);
      peak.set(`${server.name}/static`, s.result.qps);
      peak.set(`${server.name}/nx`, n.result.qps);
      if (server.name !== 'knotd') rows.push(await measure(server, 'static at 80% of peak', staticQueries, { maxQps: s.result.qps * 0.8, percentiles: true }));
      await server.stop();
    }
    // The p99 at 80% is set by V8's young-generation collections (each a pause of about a millisecond that the
    // queue behind it takes several more to drain); a larger young generation makes them rarer. Same rate as above.
    const semi = await startEdgedns(BENCH_ZONE, [zoneFile], work, [], { NODE_OPTIONS: '--max-semi-space-size=64' });
    servers.push(semi);
    rows.push(await measure(semi, 'static at 80%, semi-space 64 MB', staticQueries, { maxQps: (peak.get('edgedns/static') ?? 0) * 0.8, percentiles: true }));
    await semi.stop();
    const ratio = (a: string, b: string): string => ((peak.get(a) ?? NaN) / (peak.get(b) ?? NaN)).toFixed(2);
    ratios.push(
      `| static answers | ${ratio('edgedns/static', 'node-limit/static')} | 0.85 | ${ratio('edgedns/static', 'knotd/static')} |`,
      `| static + 10% NXDOMAIN | ${ratio('edgedns/nx', 'node-limit/nx')} | 0.80 | ${ratio('edgedns/nx', 'knotd/nx')} |`,
    );

    const geo = await geoScenario(work);
    if (geo) {
      rows.push(...geo.rows);
      for (const [label, qps] of geo.peaks) ratios.push(`| ${label} | ${(qps / (peak.get('node-limit/static') ?? NaN)).toFixed(2)} | 0.75 | ${(qps / (peak.get('knotd/static') ?? NaN)).toFixed(2)} |`);
    }

    // Multi-core: the same static load, nothing pinned, 1 worker and then WORKERS workers; dnsperf shares the CPUs.
    const scaling: number[] = [];
    for (const workers of [1, WORKERS]) {
      const server = await startEdgedns(BENCH_ZONE, [zoneFile], work, ['--workers', String(workers)], {}, false);
      servers.push(server);
      const row = await measure(server, `static, --workers ${workers}, unpinned`, staticQueries, { pin: false });
      rows.push(row);
      scaling.push(row.result.qps);
      await server.stop();
    }
    workersNote = `--workers ${WORKERS} / --workers 1, nothing pinned, dnsperf on the same ${CORES} cores: ${(scaling[1] / scaling[0]).toFixed(2)}×`;
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }

  const report = [
    `# edgedns benchmark`,
    '',
    `${new Date().toISOString()} · ${os.cpus()[0]?.model ?? 'cpu'} · ${CORES} cores · Node ${process.version} · ${PINNING ? 'server pinned to CPU 0, dnsperf to CPU 1' : 'no pinning'} · ${SECONDS} s per run · loopback UDP`,
    '',
    format(rows),
    '',
    '| ratio | edgedns / Node limit | target | edgedns / knotd |',
    '|---|---:|---:|---:|',
    ...ratios,
    '',
    `Multi-core: ${workersNote}. ${CORES <= 2 ? `With ${CORES} cores the load generator takes one of them, so this machine cannot show what more workers give.` : ''}`,
    '',
  ].join('\n');
  process.stdout.write('\n' + report);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.md', report);
  process.stdout.write('\nwritten to bench/results/latest.md\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
