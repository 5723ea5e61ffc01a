// Scale check: 100,000 RRsets across 1,000 zones on the embedded store. Prints resident memory, cold start to the
// first answer, and how long one RRset change takes to reach the answers.
//
//   npm run bench:scale

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import { rssBytes } from './cpu.js';

const ZONES = Number(process.env.SCALE_ZONES ?? 1000);
const RRSETS_PER_ZONE = 100;

function zoneText(i: number): string {
  const lines = [`$ORIGIN zone${i}.test.`, '$TTL 300', '@ IN SOA ns1 hostmaster 1 7200 900 1209600 300', '@ IN NS ns1', 'ns1 IN A 192.0.2.1'];
  // 97 more RRsets: hosts with A, every third also AAAA, a few MX and TXT
  let rrsets = 3;
  for (let h = 0; rrsets < RRSETS_PER_ZONE; h++) {
    lines.push(`h${h} IN A 192.0.2.${(h % 250) + 1}`);
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

function startNode(dataDir: string, zonesDir: string | undefined, dnsPort: number, apiPort: number): ChildProcess {
  const args = [path.resolve('dist/cli/main.js'), 'serve', '--dns', `127.0.0.1:${dnsPort}`, '--api', `127.0.0.1:${apiPort}`, '--data', dataDir, '--log-level', 'warn'];
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

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'edgedns-scale-'));
  const zonesDir = path.join(work, 'zones');
  mkdirSync(zonesDir);
  for (let i = 0; i < ZONES; i++) writeFileSync(path.join(zonesDir, `zone${i}.test.zone`), zoneText(i));
  const dataDir = path.join(work, 'data');
  const dnsPort = await freePort();
  const apiPort = await freePort();
  const last = `h1.zone${ZONES - 1}.test.`;
  try {
    process.stdout.write(`scale: importing ${ZONES} zones x ${RRSETS_PER_ZONE} RRsets = ${ZONES * RRSETS_PER_ZONE} RRsets\n`);
    const importStarted = Date.now();
    let node = startNode(dataDir, zonesDir, dnsPort, apiPort);
    await until('first import', 30 * 60_000, () => ask(dnsPort, last));
    const importSeconds = (Date.now() - importStarted) / 1000;
    await stop(node);

    const coldStarted = Date.now();
    node = startNode(dataDir, undefined, dnsPort, apiPort);
    await until('cold start', 120_000, () => ask(dnsPort, last));
    const coldMs = Date.now() - coldStarted;
    await new Promise((r) => setTimeout(r, 2000)); // let start-up garbage be collected before reading RSS
    const rss = rssBytes(node.pid as number);

    // One RRset change, written through the API as an operator would, timed until the answer changes.
    const key = readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
    const zone = `zone${ZONES - 1}.test`;
    const changed = zoneText(ZONES - 1).replace('h1 IN A 192.0.2.2', 'h1 IN A 203.0.113.9');
    const changeStarted = Date.now();
    const response = await fetch(`http://127.0.0.1:${apiPort}/v1/zones?replace=true`, { method: 'POST', body: changed, headers: { authorization: `Bearer ${key}`, 'content-type': 'text/dns' } });
    if (!response.ok) throw new Error(`change failed: ${response.status} ${await response.text()}`);
    await until('change applied', 10_000, async () => ((await ask(dnsPort, last)) === '203.0.113.9' ? true : undefined));
    const changeMs = Date.now() - changeStarted;
    await stop(node);

    const report = [
      `| figure | measured | target |`,
      `|---|---:|---:|`,
      `| RRsets / zones | ${ZONES * RRSETS_PER_ZONE} / ${ZONES} | 100000 / 1000 |`,
      `| first import of all zone files | ${importSeconds.toFixed(1)} s | - |`,
      `| cold start to first answer | ${(coldMs / 1000).toFixed(2)} s | ≤ 5 s |`,
      `| resident memory after start | ${(rss / 1048576).toFixed(0)} MB | ≤ 350 MB |`,
      `| one RRset change to answers (API write included) | ${changeMs} ms | ≤ 1000 ms |`,
    ].join('\n');
    process.stdout.write(report + '\n');
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/scale.md', `# edgedns scale check\n\n${new Date().toISOString()} · Node ${process.version}\n\n${report}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`scale check failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
