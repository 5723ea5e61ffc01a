// Issue 12's attacks on the API, measured against a real node (dist/cli/main.js serve, its own process):
//   1. DNS median latency idle, then while four clients each send unauthenticated 10 MB JSON bodies to the API in a
//      loop (bounded to BENCH_SECONDS, default 30): the node must stay within 2× of idle.
//   2. Resident memory of the node before and after one 25 MiB site file upload (must rise by less than 100 MB),
//      then four at once.
// Writes bench/results/api-flood.md.   npm run bench:api-flood      (BENCH_SECONDS=30 by default)

import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, pinned, PINNING, rssBytes } from './cpu.js';
import { freePort } from '../test/helpers/ports.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const IDLE_SECONDS = Math.min(10, SECONDS);
const CLIENTS = 4;
const BODY_BYTES = 10 * 1000 * 1000;
const FILE_BYTES = 25 * 1024 * 1024;
/** Pause between DNS samples: the sampler measures latency, it is not a load of its own. */
const SAMPLE_GAP_MS = 2;
const QUERY_TIMEOUT_MS = 1000;
const CLI = path.resolve('dist/cli/main.js');
/** After an upload, LevelDB flushes the value to disk in the background: RSS is read once that is done. */
const SETTLE_MS = 5000;

// ---- a flood client (this file run with --flood-client PORT SECONDS) ----

async function floodClient(port: number, seconds: number): Promise<void> {
  const body = Buffer.from(`{"scope":"admin","name":"${'x'.repeat(BODY_BYTES - 28)}"}`);
  const deadline = Date.now() + seconds * 1000;
  const counts: Record<string, number> = {};
  while (Date.now() < deadline) {
    const outcome = await new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/keys', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
        res.on('error', () => resolve(String(res.statusCode)));
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      req.end(body);
    });
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
  process.stdout.write(JSON.stringify(counts) + '\n');
}

/** Runs a flood client in its own process (on the load generator's CPU when pinning) and resolves with its counts. */
function startFloodClient(self: string, port: number): Promise<Record<string, number>> {
  const [command, args] = pinned('client', process.execPath, [self, '--flood-client', String(port), String(SECONDS)]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Record<string, number>) : reject(new Error(`flood client exited ${code}`)))));
}

// ---- the measurements ----

function query(name: string, id: number): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4); // QDCOUNT
  return Buffer.concat([header, qname, Buffer.from([0, 1, 0, 1])]); // A, IN
}

/** Sequential queries for `seconds`: latency of each (ms), lost ones counted apart. */
async function sampleDns(port: number, seconds: number): Promise<{ latencies: number[]; lost: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const latencies: number[] = [];
  let lost = 0;
  const deadline = Date.now() + seconds * 1000;
  let id = 0;
  try {
    while (Date.now() < deadline) {
      id = (id + 1) & 0xffff;
      const sent = process.hrtime.bigint();
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          socket.off('message', onMessage);
          resolve(false);
        }, QUERY_TIMEOUT_MS);
        const onMessage = (msg: Buffer) => {
          if (msg.readUInt16BE(0) !== id) return;
          clearTimeout(timer);
          socket.off('message', onMessage);
          resolve(true);
        };
        socket.on('message', onMessage);
        socket.send(query('www.example.com', id), port, '127.0.0.1');
      });
      if (ok) latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
      else lost++;
      await new Promise((r) => setTimeout(r, SAMPLE_GAP_MS));
    }
  } finally {
    socket.close();
  }
  return { latencies, lost };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function upload(apiPort: number, key: string, data: Buffer): Promise<number> {
  const hash = createHash('sha256').update(data).digest('hex');
  const response = await fetch(`http://127.0.0.1:${apiPort}/v1/blobs/${hash}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data),
  });
  await response.text();
  return response.status;
}

/** Peak resident memory of `pid` (MB) while `work` runs, sampled every 20 ms. */
async function peakRss(pid: number, work: () => Promise<unknown>): Promise<number> {
  let peak = rssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssBytes(pid)) / 1e6;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-bench-api-'));
  const [dnsPort, apiPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  // As the other benches do: the node on CPU 0, the load generators on CPU 1 (an attacker's CPU is not the node's);
  // this process, which only samples DNS one query at a time, shares CPU 0 with the node.
  if (PINNING) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const [nodeCommand, nodeArgs] = pinned('server', process.execPath, [CLI, 'serve', '--dns', `127.0.0.1:${dnsPort}`, '--api', `127.0.0.1:${apiPort}`, '--http', `127.0.0.1:${httpPort}`, '--data', path.join(dir, 'data'), '--zones', 'zones', '--geoip', 'none', '--log-level', 'warn']);
  const node = spawn(nodeCommand, nodeArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; ; i++) {
      const up = await fetch(`http://127.0.0.1:${apiPort}/healthz`).then((r) => r.ok, () => false);
      if (up) break;
      if (i > 200) throw new Error('the node did not start');
      await settle(100);
    }
    // With taskset in front, the node is taskset's child after exec: the same pid.
    const pid = node.pid as number;
    const key = (await readFile(path.join(dir, 'data', 'admin.key'), 'utf8')).trim();
    await sampleDns(dnsPort, 1); // warm-up

    process.stdout.write(`DNS idle, ${IDLE_SECONDS} s…\n`);
    const idle = await sampleDns(dnsPort, IDLE_SECONDS);

    process.stdout.write(`DNS while ${CLIENTS} clients send unauthenticated ${BODY_BYTES / 1e6} MB bodies, ${SECONDS} s…\n`);
    const cpuBefore = cpuSeconds(pid);
    const self = fileURLToPath(import.meta.url);
    const results = Array.from({ length: CLIENTS }, () => startFloodClient(self, apiPort));
    const flood = await sampleDns(dnsPort, SECONDS);
    const outcomes: Record<string, number> = {};
    for (const counts of await Promise.all(results)) for (const [k, v] of Object.entries(counts)) outcomes[k] = (outcomes[k] ?? 0) + v;
    const nodeCpu = ((cpuSeconds(pid) - cpuBefore) / SECONDS) * 100;
    const bodiesSent = Object.values(outcomes).reduce((a, b) => a + b, 0);

    await settle(2000);
    const rssBefore = rssBytes(pid);
    const one = randomBytes(FILE_BYTES);
    let status = 0;
    const onePeak = await peakRss(pid, async () => (status = await upload(apiPort, key, one)));
    await settle(SETTLE_MS);
    const rssAfterOne = rssBytes(pid);
    const four = Array.from({ length: 4 }, () => randomBytes(FILE_BYTES));
    let statuses: number[] = [];
    const fourPeak = await peakRss(pid, async () => (statuses = await Promise.all(four.map((data) => upload(apiPort, key, data)))));
    await settle(SETTLE_MS);
    const rssAfterFour = rssBytes(pid);

    const idleMedian = percentile(idle.latencies, 50);
    const floodMedian = percentile(flood.latencies, 50);
    const report = `# API under attack (issue 12): \`npm run bench:api-flood\` (BENCH_SECONDS=${SECONDS})

${os.cpus().length} CPUs; the node is \`dist/cli/main.js serve --zones zones\` in its own process${PINNING ? ' on CPU 0, the flood clients on CPU 1' : ' (not pinned: no taskset or one CPU)'};
DNS is sampled with one query at a time (A www.example.com over UDP, ${SAMPLE_GAP_MS} ms apart).

| DNS | queries | median | p90 | p99 | lost |
|---|---|---|---|---|---|
| idle (${IDLE_SECONDS} s) | ${idle.latencies.length} | ${idleMedian.toFixed(3)} ms | ${percentile(idle.latencies, 90).toFixed(3)} ms | ${percentile(idle.latencies, 99).toFixed(3)} ms | ${idle.lost} |
| ${CLIENTS} clients × unauthenticated ${BODY_BYTES / 1e6} MB bodies (${SECONDS} s) | ${flood.latencies.length} | ${floodMedian.toFixed(3)} ms | ${percentile(flood.latencies, 90).toFixed(3)} ms | ${percentile(flood.latencies, 99).toFixed(3)} ms | ${flood.lost} |

Median under the flood / idle: **${(floodMedian / idleMedian).toFixed(2)}×** (acceptance: within 2×). The flood made ${bodiesSent} requests
(${Object.entries(outcomes).map(([k, v]) => `${k}: ${v}`).join(', ')}); the node used ${nodeCpu.toFixed(0)}% of a CPU meanwhile.

| site file upload | RSS before | peak | after (${SETTLE_MS / 1000} s) | rise (after − before) |
|---|---|---|---|---|
| one ${FILE_BYTES / 1024 / 1024} MiB file (HTTP ${status}) | ${mb(rssBefore)} MB | ${onePeak.toFixed(0)} MB | ${mb(rssAfterOne)} MB | **${mb(rssAfterOne - rssBefore)} MB** (peak ${(onePeak - rssBefore / 1e6).toFixed(0)} MB) |
| four at once (HTTP ${statuses.join(', ')}) | ${mb(rssAfterOne)} MB | ${fourPeak.toFixed(0)} MB | ${mb(rssAfterFour)} MB | ${mb(rssAfterFour - rssAfterOne)} MB (peak ${(fourPeak - rssAfterOne / 1e6).toFixed(0)} MB) |

(${new Date().toISOString()})
`;
    process.stdout.write(report);
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/api-flood.md', report);
  } finally {
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--flood-client') await floodClient(Number(process.argv[3]), Number(process.argv[4]));
else await main();
