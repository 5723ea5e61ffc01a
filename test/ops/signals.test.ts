// The signals an operator (or systemd, or Docker) sends a running `edgedns serve`, checked on the real process:
//   - SIGHUP under query load: every query is answered, the log level changes from the --config file, the GeoIP
//     file is read again, and one log line says what was reloaded (and what would need a restart);
//   - SIGTERM: no new connections; a DNS-over-TCP query and an API request already in flight are still answered;
//     the process exits 0;
//   - the same with --workers 2 on an IPv4 and an IPv6 address: the workers reload too, /metrics (merged over the
//     processes) passes promtool, and SIGTERM stops them all with exit 0.
// Needs `npm run build` first (it runs dist/cli/main.js).

import t from 'tap';
import { spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeTestDb } from '../geo/geo-helpers.js';
import { dig } from '../helpers/dig.js';
import { frame } from '../helpers/dns-socket.js';
import { spawnEdgedns } from '../helpers/spawn-edgedns.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';
import { buildQuery } from '../helpers/wire.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-signals-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const geoip = await writeTestDb(dir);

interface LoopResult {
  sent: number;
  answered: number;
  /** Queries sent before, during and after the awaited event. */
  sentBefore: number;
  sentAfter: number;
}

/**
 * UDP queries to 127.0.0.1:port, `window` outstanding at a time, each sent once and given 2 s: a query not answered
 * by then is lost. Runs until `done()` has held for `after` more queries, and never past `max` queries or 20 s.
 */
function queryLoop(port: number, options: { window: number; after: number; max: number; done: () => boolean }): Promise<LoopResult> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const waiting = new Map<number, NodeJS.Timeout>();
    const result: LoopResult = { sent: 0, answered: 0, sentBefore: 0, sentAfter: 0 };
    let doneAt = -1;
    const stopAt = Date.now() + 20_000;
    const finish = (): void => {
      for (const timer of waiting.values()) clearTimeout(timer);
      socket.close();
      resolve(result);
    };
    const next = (): void => {
      if (doneAt < 0 && options.done()) doneAt = result.sent;
      const enough = (doneAt >= 0 && result.sent - doneAt >= options.after) || result.sent >= options.max || Date.now() > stopAt;
      if (enough) {
        if (waiting.size === 0) finish();
        return;
      }
      const id = result.sent++ & 0xffff;
      if (doneAt < 0) result.sentBefore++;
      else result.sentAfter++;
      waiting.set(
        id,
        setTimeout(() => {
          waiting.delete(id);
          next();
        }, 2000),
      );
      socket.send(buildQuery(`q${id}.example.com.`, 1, { id }), port, '127.0.0.1');
    };
    socket.on('error', reject);
    socket.on('message', (reply) => {
      const id = reply.readUInt16BE(0);
      const timer = waiting.get(id);
      if (timer === undefined) return;
      clearTimeout(timer);
      waiting.delete(id);
      result.answered++;
      next();
    });
    socket.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < options.window; i++) next();
    });
  });
}

function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

t.test('SIGHUP under query load: no query lost, one log line says what was reloaded', async (t) => {
  const config = path.join(dir, 'edgedns.conf');
  await writeFile(config, 'EDGEDNS_LOG_LEVEL=info\n');
  const node = await spawnEdgedns({ zonesDir: 'zones', nodeId: 'hup-node', extraArgs: ['--config', config, '--geoip', geoip, '--acme-directory', 'none'] });
  t.teardown(() => node.stop());

  let reloaded = false;
  const loop = queryLoop(node.dnsPort, { window: 16, after: 2000, max: 30_000, done: () => reloaded });
  // The reload comes once the loop is running: change the file, then HUP.
  await waitFor(() => node.logs().length > 0, { what: 'the node to log', timeoutMs: 1000 });
  await new Promise((r) => setTimeout(r, 200));
  await writeFile(config, 'EDGEDNS_LOG_LEVEL=debug\nEDGEDNS_RRL_RATE=100\n');
  node.process.kill('SIGHUP');
  const line = await waitFor(() => logLines(node.logs()).find((l) => String(l.msg).startsWith('reloaded on SIGHUP')), { what: 'the reload log line', timeoutMs: 10_000 });
  reloaded = true;
  const result = await loop;

  t.ok(result.sentBefore > 0 && result.sentAfter >= 2000, `queries before (${result.sentBefore}) and after (${result.sentAfter}) the reload`);
  t.equal(result.answered, result.sent, `every query answered: ${result.answered} of ${result.sent}`);
  t.equal(node.process.exitCode, null, 'the node is still running');
  t.equal(node.process.signalCode, null);
  const msg = String(line.value.msg);
  t.match(msg, 'log level info -> debug', msg);
  t.match(msg, '1 GeoIP file(s)');
  t.match(msg, 'secrets key ok');
  t.match(msg, 'needs a restart to change: rrl', 'a setting the reload cannot change is named');
  const report = line.value.reload as { geoip: { path: string; result: string }[] };
  t.same(report.geoip.map((g) => [g.path, g.result]), [[geoip, 'ok']], 'the GeoIP file was read again');
  t.equal(logLines(node.logs()).filter((l) => String(l.msg).startsWith('reloaded on SIGHUP')).length, 1, 'one line per reload');
});

t.test('SIGTERM: nothing new is accepted, the TCP query and the API request in flight are answered, exit 0', async (t) => {
  const node = await spawnEdgedns({ zonesDir: 'zones', nodeId: 'term-node', extraArgs: ['--acme-directory', 'none', '--drain-timeout', '5'] });
  t.teardown(() => node.stop());
  const adminKey = (await readFile(path.join(node.dataDir, 'admin.key'), 'utf8')).trim();

  // A DNS-over-TCP query half sent, and an API request whose body is half sent.
  const query = frame(buildQuery('www.example.com.', 1, { id: 4242 }));
  const dns = net.connect(node.dnsPort, '127.0.0.1');
  let dnsReply = Buffer.alloc(0);
  let dnsEnded = false;
  dns.on('data', (d: Buffer) => (dnsReply = Buffer.concat([dnsReply, d])));
  dns.on('end', () => (dnsEnded = true));
  await new Promise<void>((resolve) => dns.once('connect', () => resolve()));
  dns.write(query.subarray(0, 10));

  const body = '{"no":"such zone"}';
  const api = net.connect(node.apiPort, '127.0.0.1');
  let apiReply = '';
  api.on('data', (d: Buffer) => (apiReply += d.toString()));
  await new Promise<void>((resolve) => api.once('connect', () => resolve()));
  api.write(`POST /v1/zones HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${adminKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
  await new Promise((r) => setTimeout(r, 200));

  const started = Date.now();
  node.process.kill('SIGTERM');
  await waitFor(() => node.logs().includes('"msg":"stopping'), { what: 'the node to start stopping', timeoutMs: 5000 });
  const refused = await new Promise<string>((resolve) => {
    const probe = net.connect(node.dnsPort, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve('connected');
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  t.equal(refused, 'ECONNREFUSED', 'a new DNS-over-TCP connection is refused while draining');

  dns.write(query.subarray(10));
  api.write(body.slice(5));
  await waitFor(() => dnsReply.length >= 2 && dnsReply.length >= 2 + dnsReply.readUInt16BE(0), { what: 'the TCP answer', timeoutMs: 4000 });
  t.equal(dnsReply.readUInt16BE(2), 4242, 'the DNS query in flight is answered');
  t.equal((dnsReply[5] & 0x0f), 0, 'NOERROR');
  await waitFor(() => apiReply.includes('\r\n\r\n'), { what: 'the API response', timeoutMs: 4000 });
  t.match(apiReply, /^HTTP\/1\.1 4\d\d /, `the API request in flight is answered (${apiReply.split('\r\n')[0]})`);
  await waitFor(() => dnsEnded, { what: 'the node to end the TCP connection', timeoutMs: 4000 });

  const { code, signal } = await exited(node.process);
  t.equal(code, 0, 'exit code 0');
  t.equal(signal, null, 'not killed by the signal');
  t.ok(Date.now() - started < 5000, `stopped within the drain time (${Date.now() - started} ms)`);
  t.ok(logLines(node.logs()).some((l) => l.msg === 'stopped'), 'the log says it stopped');
  dns.destroy();
  api.destroy();
});

t.test('--workers 2 on IPv4 and IPv6: both answer, SIGHUP reaches the workers, /metrics passes promtool, SIGTERM exits 0', async (t) => {
  const promtool = requireTool('promtool');
  const node = await spawnEdgedns({ zonesDir: 'zones', nodeId: 'workers-node', extraArgs: ['--workers', '2', '--dns', '[::1]:0', '--acme-directory', 'none', '--geoip', 'none'] });
  t.teardown(() => node.stop());
  const started = logLines(node.logs()).find((l) => l.msg === 'edgedns node started');
  const addresses = started?.dns as string[];
  t.equal(addresses.length, 2, `two DNS addresses: ${addresses.join(' ')}`);
  const v6port = Number(/^\[::1\]:(\d+)$/.exec(addresses[1])?.[1]);
  t.ok(v6port > 0, 'the IPv6 address got a port');
  for (const [server, port] of [['127.0.0.1', node.dnsPort], ['::1', v6port]] as const) {
    for (const tcp of [false, true]) {
      const r = await dig(port, 'www.example.com', 'A', { server, tcp, nsid: true });
      t.equal(r.rcode, 'NOERROR', `${server} over ${tcp ? 'TCP' : 'UDP'}`);
      t.match(r.opt?.options.NSID ?? '', /"workers-node"/);
    }
  }

  node.process.kill('SIGHUP');
  const line = await waitFor(() => logLines(node.logs()).find((l) => String(l.msg).startsWith('reloaded on SIGHUP')), { what: 'the reload log line', timeoutMs: 15_000 });
  t.match(String(line.value.msg), '2/2 DNS workers', String(line.value.msg));

  const metrics = await (await fetch(`http://127.0.0.1:${node.apiPort}/metrics`)).text();
  const check = spawnSync(promtool, ['check', 'metrics'], { input: metrics, encoding: 'utf8', timeout: 20_000 });
  t.equal(check.status, 0, `promtool check metrics on the merged /metrics:\n${check.stdout}${check.stderr}`);
  t.match(metrics, /^edgedns_dns_queries_total\{transport="tcp",family="ipv6",qtype="A",rcode="NOERROR"\} 1$/m, 'IPv6 over TCP counted once, in one series for the node');
  t.match(metrics, /^edgedns_process_cpu_seconds_total\{process="worker-2"\} /m);

  node.process.kill('SIGTERM');
  const { code } = await exited(node.process);
  t.equal(code, 0, 'exit code 0');
});
