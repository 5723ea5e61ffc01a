// Big zones (issue 13): one node on its embedded store, a small zone answering a steady stream of queries, and
//   1. a 100,000-record zone imported through the API (what `edgedns zone import FILE` sends): the time the call
//      takes, the time to its first answer, the node's peak resident memory, and the queries for the small zone
//      that got no answer meanwhile;
//   2. one RRset of that zone changed through the API, timed until it is answered;
//   3. a 10,000-record zone replaced with `edgedns zone import FILE --replace`, then every one of its names asked
//      right after the command returns: how many answer the new data and how many the old.
//
//   npm run bench:big-zone                     BIG_ZONE_RECORDS=… and REPLACE_RECORDS=… change the sizes

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/ports.js';

const RECORDS = Number(process.env.BIG_ZONE_RECORDS ?? 100_000);
const REPLACE_RECORDS = Number(process.env.REPLACE_RECORDS ?? 10_000);
/** Queries per second for the small zone while the big one is imported. */
const BACKGROUND_QPS = 200;

function bigZone(origin: string, records: number, address: (i: number) => string): string {
  const lines = [`$ORIGIN ${origin}`, '$TTL 300', '@ SOA ns1 hostmaster 1 7200 900 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.250'];
  for (let i = 0; i < records; i++) lines.push(`h${i} A ${address(i)}`);
  return lines.join('\n') + '\n';
}

function query(name: string, id: number): Buffer {
  const labels = name.split('.').filter(Boolean);
  return Buffer.concat([
    Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
}

function address(msg: Buffer): string | undefined {
  if ((msg[3] & 0xf) !== 0 || msg.readUInt16BE(6) === 0) return undefined;
  return [...msg.subarray(msg.length - 4)].join('.');
}

/** Asks names over one socket, at most 64 in flight, each asked again once after 1 s: name → first A address. */
async function askAll(port: number, names: string[]): Promise<Map<string, string | undefined>> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const waiting = new Map<number, (msg: Buffer | undefined) => void>();
  socket.on('message', (msg) => waiting.get(msg.readUInt16BE(0))?.(msg));
  const out = new Map<string, string | undefined>();
  let next = 0;
  let id = 0;
  const ask = (name: string): Promise<Buffer | undefined> =>
    new Promise((resolve) => {
      const qid = (id = (id + 1) & 0xffff);
      const timer = setTimeout(() => done(undefined), 1000);
      const done = (msg: Buffer | undefined): void => {
        clearTimeout(timer);
        waiting.delete(qid);
        resolve(msg);
      };
      waiting.set(qid, done);
      socket.send(query(name, qid), port, '127.0.0.1');
    });
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++];
      const msg = (await ask(name)) ?? (await ask(name));
      out.set(name, msg && address(msg));
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  socket.close();
  return out;
}

/** A steady stream of queries for one name until stopped: how many were sent, lost (no reply in 2 s), slowest. */
function backgroundQueries(port: number, name: string): { stop(): Promise<{ sent: number; lost: number; slowestMs: number }> } {
  const socket = dgram.createSocket('udp4');
  const sentAt = new Map<number, number>();
  let sent = 0;
  let lost = 0;
  let slowest = 0;
  socket.on('message', (msg) => {
    const at = sentAt.get(msg.readUInt16BE(0));
    if (at === undefined) return;
    sentAt.delete(msg.readUInt16BE(0));
    slowest = Math.max(slowest, performance.now() - at);
  });
  socket.bind(0, '127.0.0.1');
  const timer = setInterval(() => {
    const now = performance.now();
    for (const [id, at] of sentAt) if (now - at > 2000) {
      sentAt.delete(id);
      lost++;
    }
    const id = sent++ & 0xffff;
    sentAt.set(id, now);
    socket.send(query(name, id), port, '127.0.0.1');
  }, 1000 / BACKGROUND_QPS);
  return {
    async stop() {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 2100));
      lost += sentAt.size;
      socket.close();
      return { sent, lost, slowestMs: Math.round(slowest) };
    },
  };
}

async function until<T>(what: string, limitMs: number, check: () => Promise<T | undefined>, everyMs = 5): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

async function api(port: number, key: string, method: string, url: string, body: string, type: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}${url}`, { method, body, headers: { authorization: `Bearer ${key}`, 'content-type': type }, signal: AbortSignal.timeout(300_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'edgedns-big-zone-'));
  const zonesDir = path.join(work, 'zones');
  mkdirSync(zonesDir);
  writeFileSync(path.join(zonesDir, 'small.test.zone'), '$ORIGIN small.test.\n@ 300 SOA ns1 hostmaster 1 7200 900 1209600 300\n@ 300 NS ns1\nns1 300 A 192.0.2.250\nwww 300 A 192.0.2.80\n');
  const dataDir = path.join(work, 'data');
  const dnsPort = await freePort();
  const apiPort = await freePort();
  const args = [path.resolve('dist/cli/main.js'), 'serve', '--dns', `127.0.0.1:${dnsPort}`, '--api', `127.0.0.1:${apiPort}`, '--http', '127.0.0.1:0', '--data', dataDir, '--zones', zonesDir, '--log-level', 'warn'];
  const node: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await until('start', 60_000, async () => (await askAll(dnsPort, ['www.small.test.'])).get('www.small.test.'), 50);
    const key = readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
    const pid = node.pid as number;
    const rssBefore = peakRss(pid);

    // 1. The big import, with the small zone asked all along.
    const text = bigZone('big.test.', RECORDS, (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const background = backgroundQueries(dnsPort, 'www.small.test.');
    const started = performance.now();
    await api(apiPort, key, 'POST', '/v1/zones', text, 'text/dns');
    const apiSeconds = (performance.now() - started) / 1000;
    const last = `h${RECORDS - 1}.big.test.`;
    await until('first answer of the big zone', 300_000, async () => (await askAll(dnsPort, [last])).get(last));
    const answeredSeconds = (performance.now() - started) / 1000;
    const lossy = await background.stop();
    const peak = peakRss(pid);

    // 2. One RRset of the big zone changed.
    const changeStarted = performance.now();
    await api(apiPort, key, 'PUT', '/v1/zones/big.test/rrsets/h1/A', JSON.stringify({ ttl: 300, records: ['203.0.113.1'] }), 'application/json');
    const changeApiMs = performance.now() - changeStarted;
    await until('the change answered', 30_000, async () => ((await askAll(dnsPort, ['h1.big.test.'])).get('h1.big.test.') === '203.0.113.1' ? true : undefined), 1);
    const changeMs = performance.now() - changeStarted;

    // 3. A replace of a 10,000-record zone, sampled on every name right after the call returns.
    const names = Array.from({ length: REPLACE_RECORDS }, (_, i) => `h${i}.replace.test.`);
    await api(apiPort, key, 'POST', '/v1/zones', bigZone('replace.test.', REPLACE_RECORDS, () => '192.0.2.1'), 'text/dns');
    const lastReplaced = names[names.length - 1];
    await until('the replace zone answered', 60_000, async () => ((await askAll(dnsPort, [lastReplaced])).get(lastReplaced) === '192.0.2.1' ? true : undefined), 50);
    // As an operator does it: `edgedns zone import FILE --replace`.
    const replaceFile = path.join(work, 'replace.test.zone');
    writeFileSync(replaceFile, bigZone('replace.test.', REPLACE_RECORDS, () => '198.51.100.1'));
    const replaceStarted = performance.now();
    const cli = spawnSync(process.execPath, [path.resolve('dist/cli/main.js'), 'zone', 'import', replaceFile, '--replace'], {
      env: { ...process.env, EDGEDNS_API: `127.0.0.1:${apiPort}`, EDGEDNS_API_KEY: key },
      encoding: 'utf8',
    });
    const replaceSeconds = (performance.now() - replaceStarted) / 1000;
    if (cli.status !== 0) throw new Error(`zone import --replace failed: ${cli.stderr}`);
    const sampled = await askAll(dnsPort, names);
    const counts = { new: 0, old: 0, other: 0 };
    for (const value of sampled.values()) counts[value === '198.51.100.1' ? 'new' : value === '192.0.2.1' ? 'old' : 'other']++;

    const report = [
      '| figure | measured | target |',
      '|---|---:|---:|',
      `| ${RECORDS}-record zone import: API call | ${apiSeconds.toFixed(1)} s | - |`,
      `| import + first answer | ${answeredSeconds.toFixed(1)} s | < 15 s |`,
      `| peak resident memory (VmHWM; ${(rssBefore / 1048576).toFixed(0)} MB before the import) | ${(peak / 1048576).toFixed(0)} MB | < 600 MB |`,
      `| queries for another zone during the import: sent / lost / slowest answer | ${lossy.sent} / ${lossy.lost} / ${lossy.slowestMs} ms | 0 lost |`,
      `| one RRset changed in that zone: API call / answered | ${changeApiMs.toFixed(0)} ms / ${changeMs.toFixed(0)} ms | < 100 ms |`,
      `| ${REPLACE_RECORDS}-record --replace (${replaceSeconds.toFixed(1)} s), every name asked right after: new / old / other | ${counts.new} / ${counts.old} / ${counts.other} | 0 old |`,
    ].join('\n');
    process.stdout.write(`${report}\n`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/big-zone.md', `# edgedns big zones\n\n${new Date().toISOString()} · Node ${process.version} · ${os.cpus().length} cores\n\n${report}\n`);
  } finally {
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`big-zone bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
