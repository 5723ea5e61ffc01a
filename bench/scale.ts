// Scale check (issue 7): 100,000 RRsets across 1,000 zones on the embedded store, with a geo pool so both DB-IP City
// Lite databases (134 MB) are loaded too. Prints resident memory after start and after 1,000 queries, cold start to
// the first answer, how long one RRset change takes to reach the answers, and where the memory is (from /metrics).
//
//   npm run bench:scale
//   SCALE_DATA=/tmp/scale-data npm run bench:scale        keep the imported store between runs (import once)
//   SCALE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:scale   node options for the measured start

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/ports.js';

const ZONES = Number(process.env.SCALE_ZONES ?? 1000);
const RRSETS_PER_ZONE = 100;
const POOL = 'scale';
const EDGES = 8;
const QUERIES = 1000;

function zoneText(i: number, h1 = '192.0.2.2'): string {
  const lines = [`$ORIGIN zone${i}.test.`, '$TTL 300', '@ IN SOA ns1 hostmaster 1 7200 900 1209600 300', '@ IN NS ns1', 'ns1 IN A 192.0.2.1'];
  let rrsets = 3;
  // zone0 holds the one dynamic RRset: its pool is what makes the node load GeoIP.
  if (i === 0) {
    lines.push(`www 30 IN POOL ${POOL} A`);
    rrsets++;
  }
  // the rest: hosts with A, every third also AAAA, a few TXT
  for (let h = 0; rrsets < RRSETS_PER_ZONE; h++) {
    lines.push(`h${h} IN A ${h === 1 ? h1 : `192.0.2.${(h % 250) + 1}`}`);
    rrsets++;
    if (rrsets < RRSETS_PER_ZONE && h % 3 === 0) {
      lines.push(`h${h} IN AAAA 2001:db8::${h.toString(16)}`);
      rrsets++;
    }
    if (rrsets < RRSETS_PER_ZONE && h % 10 === 0) {
      lines.push(`h${h} IN TXT "host ${h} of zone ${i}"`);
      rrsets++;
    }
  }
  return lines.join('\n') + '\n';
}

function edgesJson(): string {
  const places: [string, number, number, string][] = [
    ['ams', 52.37, 4.9, 'NL'], ['fra', 50.11, 8.68, 'DE'], ['nyc', 40.71, -74.0, 'US'], ['sfo', 37.77, -122.42, 'US'],
    ['gru', -23.55, -46.63, 'BR'], ['tyo', 35.68, 139.69, 'JP'], ['sin', 1.35, 103.82, 'SG'], ['syd', -33.87, 151.21, 'AU'],
  ];
  const edges = places.slice(0, EDGES).map(([name, latitude, longitude, country], i) => ({
    name, ipv4: [`198.51.100.${i + 1}`], latitude, longitude, country, check: { type: 'none' },
  }));
  return JSON.stringify({ edges, pools: [{ name: POOL, members: edges.map((e) => e.name), count: 2, ttl: 30 }] });
}

function query(name: string, id: number): Buffer {
  const labels = name.split('.').filter(Boolean);
  return Buffer.concat([
    Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
}

/** The first A address answered for `name`, or undefined when there is none or no answer within 200 ms. */
function ask(port: number, name: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, 200);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      if ((msg[3] & 0xf) !== 0 || msg.readUInt16BE(6) === 0) return resolve(undefined);
      resolve([...msg.subarray(msg.length - 4)].join('.'));
    });
    socket.send(query(name, 1), port, '127.0.0.1');
  });
}

/** Sends `names` over one socket, at most 50 outstanding, and counts the answers that came back within 2 s each. */
async function askMany(port: number, names: string[]): Promise<number> {
  const socket = dgram.createSocket('udp4');
  const waiting = new Map<number, () => void>();
  socket.on('message', (msg) => waiting.get(msg.readUInt16BE(0))?.());
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  let answered = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const id = next++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve();
        }, 2000);
        waiting.set(id, () => {
          clearTimeout(timer);
          waiting.delete(id);
          answered++;
          resolve();
        });
        socket.send(query(names[id], id), port, '127.0.0.1');
      });
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  socket.close();
  return answered;
}

function startNode(dataDir: string, zonesDir: string | undefined, dnsPort: number, apiPort: number, nodeArgs: string[] = []): ChildProcess {
  const args = [...nodeArgs, path.resolve('dist/cli/main.js'), 'serve', '--dns', `127.0.0.1:${dnsPort}`, '--api', `127.0.0.1:${apiPort}`, '--http', '127.0.0.1:0', '--https', '127.0.0.1:0', '--data', dataDir, '--log-level', 'warn'];
  if (zonesDir) args.push('--zones', zonesDir);
  return spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function until<T>(what: string, limitMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Memory {
  rss: number;
  /** Anonymous (heap, malloc, buffers) and file-backed (code, mapped libraries) resident pages, from /proc. */
  anon: number;
  file: number;
  heapUsed: number;
  heapTotal: number;
  /** Memory held outside the V8 heap: Buffers and other ArrayBuffers (GeoIP files), native objects. */
  external: number;
}

/** Resident memory from /proc, then the node's own figures from /metrics (a scrape allocates, so RSS comes first). */
async function memory(pid: number, apiPort: number): Promise<Memory> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
  const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
  const metric = (name: string): number => Number(new RegExp(`^edgedns_${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
    heapUsed: metric('nodejs_heap_size_used_bytes'),
    heapTotal: metric('nodejs_heap_size_total_bytes'),
    external: metric('nodejs_external_memory_bytes'),
  };
}

const mb = (bytes: number): string => (bytes / 1048576).toFixed(0);

function describe(m: Memory): string {
  return `${mb(m.rss)} MB (anon ${mb(m.anon)}, file ${mb(m.file)}; V8 heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, external ${mb(m.external)})`;
}

/** Names to ask after start: existing hosts in every zone, some names that do not exist, and the pool. */
function queryNames(): string[] {
  const names: string[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const zone = `zone${(i * 7919) % ZONES}.test.`;
    if (i % 10 === 0) names.push(`www.zone0.test.`);
    else if (i % 10 === 1) names.push(`nothing${i}.${zone}`);
    else names.push(`h${i % 60}.${zone}`);
  }
  return names;
}

async function main(): Promise<void> {
  const keep = process.env.SCALE_DATA;
  const work = mkdtempSync(path.join(os.tmpdir(), 'edgedns-scale-'));
  const zonesDir = path.join(work, 'zones');
  mkdirSync(zonesDir);
  for (let i = 0; i < ZONES; i++) writeFileSync(path.join(zonesDir, `zone${i}.test.zone`), zoneText(i));
  writeFileSync(path.join(zonesDir, 'edges.json'), edgesJson());
  const dataDir = keep ?? path.join(work, 'data');
  const dnsPort = await freePort();
  const apiPort = await freePort();
  const last = `h1.zone${ZONES - 1}.test.`;
  try {
    let importSeconds: number | undefined;
    if (!keep || !existsSync(path.join(dataDir, 'admin.key'))) {
      process.stdout.write(`scale: importing ${ZONES} zones x ${RRSETS_PER_ZONE} RRsets = ${ZONES * RRSETS_PER_ZONE} RRsets, ${EDGES} edges, 1 pool\n`);
      const importStarted = Date.now();
      const node = startNode(dataDir, zonesDir, dnsPort, apiPort);
      await until('first import', 30 * 60_000, () => ask(dnsPort, last));
      importSeconds = (Date.now() - importStarted) / 1000;
      await stop(node);
    }

    const coldStarted = Date.now();
    const node = startNode(dataDir, undefined, dnsPort, apiPort, process.env.SCALE_NODE_ARGS?.split(' ').filter(Boolean));
    const before = await until('cold start', 120_000, () => ask(dnsPort, last));
    const coldMs = Date.now() - coldStarted;
    const pid = node.pid as number;
    const pooled = await ask(dnsPort, 'www.zone0.test.');
    if (pooled === undefined || !pooled.startsWith('198.51.100.')) throw new Error(`the pool did not answer www.zone0.test (got ${pooled})`);
    await new Promise((r) => setTimeout(r, 2000)); // let start-up garbage be collected before reading RSS
    const afterStart = await memory(pid, apiPort);
    const answered = await askMany(dnsPort, queryNames());
    await new Promise((r) => setTimeout(r, 1000));
    const afterQueries = await memory(pid, apiPort);
    const metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
    if (!/^edgedns_geoip_loads_total\{result="ok"\} [1-9]/m.test(metrics)) throw new Error('GeoIP databases were not loaded');

    // One RRset change, written through the API as an operator would, timed until the answer changes.
    const key = readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
    const zone = `zone${ZONES - 1}.test`;
    const target = before === '203.0.113.9' ? '203.0.113.10' : '203.0.113.9';
    const changed = zoneText(ZONES - 1, target);
    const changeStarted = Date.now();
    const response = await fetch(`http://127.0.0.1:${apiPort}/v1/zones?replace=true`, { method: 'POST', body: changed, headers: { authorization: `Bearer ${key}`, 'content-type': 'text/dns' } });
    if (!response.ok) throw new Error(`change failed: ${response.status} ${await response.text()}`);
    await until('change applied', 10_000, async () => ((await ask(dnsPort, last)) === target ? true : undefined));
    const changeMs = Date.now() - changeStarted;
    await stop(node);

    const report = [
      `| figure | measured | target |`,
      `|---|---:|---:|`,
      `| RRsets / zones | ${ZONES * RRSETS_PER_ZONE} / ${ZONES}, pool of ${EDGES} edges, GeoIP loaded | 100000 / 1000 |`,
      ...(importSeconds === undefined ? [] : [`| first import of all zone files | ${importSeconds.toFixed(1)} s | - |`]),
      `| cold start to first answer | ${(coldMs / 1000).toFixed(2)} s | ≤ 5 s |`,
      `| resident memory after start | ${mb(afterStart.rss)} MB | ≤ 350 MB |`,
      `| resident memory after ${QUERIES} queries (${answered} answered) | ${mb(afterQueries.rss)} MB | ≤ 350 MB |`,
      `| one RRset change to answers (API write included) | ${changeMs} ms | ≤ 1000 ms |`,
    ].join('\n');
    const breakdown = [`after start: ${describe(afterStart)}`, `after ${QUERIES} queries: ${describe(afterQueries)}`].join('\n');
    process.stdout.write(`${report}\n\n${breakdown}\n`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/scale.md', `# edgedns scale check\n\n${new Date().toISOString()} · Node ${process.version}\n\n${report}\n\n${breakdown}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`scale check failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
