// --workers N end to end: the real CLI with two DNS workers on shared sockets. Every worker answers from the same
// data, an API write is answered by all of them when it returns, a worker that dies is started again, probes run
// once per node and their outcome reaches every worker, and /metrics adds up the workers' queries.

import net from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { decodeMessage } from './helpers/decode.js';
import { udpExchange } from './helpers/dns-socket.js';
import { spawnEdgedns, type SpawnedNode } from './helpers/spawn-edgedns.js';
import { waitFor } from './helpers/wait-for.js';
import { buildQuery } from './helpers/wire.js';

const A = 1;

/** Answers of `count` A queries for `name`, each from its own socket (so the kernel may hand it to any worker). */
async function addresses(port: number, name: string, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const reply = decodeMessage(await udpExchange(port, buildQuery(name, A, { id: i })));
    out.push(reply.answer.filter((rr) => rr.type === 'A').map((rr) => [...rr.rdata].join('.')).sort().join(',') || `rcode ${reply.header.rcode}`);
  }
  return out;
}

function workerPids(node: SpawnedNode): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of node.logs().split('\n')) {
    if (!line.includes('"DNS worker answering"')) continue;
    const entry = JSON.parse(line) as { worker: number; pid: number };
    pids.set(entry.worker, entry.pid);
  }
  return pids;
}

t.test('two DNS workers answer from the same data; writes, restarts, probes and metrics', async (t) => {
  // An edge whose TCP health check is a listener of ours: we count the probes and take it down.
  let probes = 0;
  const checkServer = net.createServer((socket) => {
    probes++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => checkServer.listen(0, '127.0.0.1', resolve));
  const checkPort = (checkServer.address() as net.AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => checkServer.close(() => resolve())));

  const zonesDir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-workers-'));
  await writeFile(
    path.join(zonesDir, 'workers.test.zone'),
    ['$ORIGIN workers.test.', '$TTL 300', '@ IN SOA ns1 hostmaster 1 7200 900 1209600 300', '@ IN NS ns1', 'ns1 IN A 192.0.2.53', 'www IN A 192.0.2.1', 'geo 30 IN POOL web', ''].join('\n'),
  );
  await writeFile(
    path.join(zonesDir, 'edges.json'),
    JSON.stringify({
      edges: [
        { name: 'checked', ipv4: ['198.51.100.1'], latitude: 52.37, longitude: 4.9, check: { type: 'tcp', host: '127.0.0.1', port: checkPort } },
        { name: 'plain', ipv4: ['198.51.100.2'], latitude: 52.37, longitude: 4.9, check: { type: 'none' } },
      ],
      pools: [{ name: 'web', members: ['checked', 'plain'], ttl: 30, count: 2 }],
    }),
  );
  const node = await spawnEdgedns({ zonesDir, extraArgs: ['--workers', '2', '--probe-interval', '0.5', '--probe-timeout', '0.3', '--log-level', 'info'] });
  t.teardown(() => node.stop());
  const key = (await readFile(path.join(node.dataDir, 'admin.key'), 'utf8')).trim();
  const pids = workerPids(node);
  t.same([...pids.keys()].sort(), [1, 2], 'two workers started');
  t.not(pids.get(1), pids.get(2), 'in two processes');

  t.same(new Set(await addresses(node.dnsPort, 'www.workers.test.', 40)), new Set(['192.0.2.1']), 'every answer comes from the zone');

  // A write: when the API says it is served, every worker answers with it.
  const put = async (records: string[]): Promise<void> => {
    const response = await fetch(`http://127.0.0.1:${node.apiPort}/v1/zones/workers.test/rrsets/www/A`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: 300, records }),
    });
    const body = (await response.json()) as { served?: boolean };
    t.equal(response.status, 200, 'RRset replaced');
    t.equal(body.served, true, 'the API reports the change served');
  };
  await put(['192.0.2.2']);
  t.same(new Set(await addresses(node.dnsPort, 'www.workers.test.', 40)), new Set(['192.0.2.2']), 'no worker answers the old address after the write returns');

  // Kill worker 1: worker 2 alone answers, with the new data; worker 1 comes back.
  process.kill(pids.get(1) as number, 'SIGKILL');
  t.same(new Set(await addresses(node.dnsPort, 'www.workers.test.', 20)), new Set(['192.0.2.2']), 'the surviving worker answers');
  const { value: restarted } = await waitFor(
    () => {
      const pid = workerPids(node).get(1);
      return pid !== undefined && pid !== pids.get(1) && pid;
    },
    { what: 'worker 1 to start again', timeoutMs: 15_000 },
  );
  t.match(node.logs(), /DNS worker exited; starting it again/, 'the exit is logged');
  await put(['192.0.2.3']);
  process.kill(pids.get(2) as number, 'SIGKILL');
  t.same(new Set(await addresses(node.dnsPort, 'www.workers.test.', 20)), new Set(['192.0.2.3']), `the restarted worker (pid ${restarted}) answers the newest write`);
  await waitFor(() => workerPids(node).get(2) !== pids.get(2), { what: 'worker 2 to start again', timeoutMs: 15_000 });

  // Probes: once per node, not once per worker.
  const before = probes;
  await new Promise((r) => setTimeout(r, 2000));
  const counted = probes - before;
  // one prober: about 4 rounds in 2 s; a prober per process would make 12. No lower bound beyond 1: a loaded CI
  // machine may delay rounds, and that is not what this checks.
  t.ok(counted >= 1 && counted <= 6, `one prober for the node: at most ~4 probes in 2 s at a 0.5 s interval (got ${counted})`);

  // The edge goes down: the primary's probes take it out of every worker's answers.
  t.same(new Set(await addresses(node.dnsPort, 'geo.workers.test.', 10)), new Set(['198.51.100.1,198.51.100.2']), 'both edges while up');
  await new Promise<void>((resolve) => checkServer.close(() => resolve()));
  const left = await waitFor(
    async () => {
      const seen = new Set(await addresses(node.dnsPort, 'geo.workers.test.', 20));
      return seen.size === 1 && seen.has('198.51.100.2') && seen;
    },
    { what: 'every worker to leave the down edge out', timeoutMs: 10_000, intervalMs: 200 },
  );
  t.same(left.value, new Set(['198.51.100.2']), 'every worker leaves the down edge out');

  // One /metrics for the node: queries of all workers, each process's own memory.
  const metrics = await (await fetch(`http://127.0.0.1:${node.apiPort}/metrics`)).text();
  t.match(metrics, /edgedns_process_resident_memory_bytes\{process="worker-1"\}/);
  t.match(metrics, /edgedns_process_resident_memory_bytes\{process="worker-2"\}/);
  t.match(metrics, /edgedns_process_resident_memory_bytes\{process="primary"\}/);
  t.match(metrics, /edgedns_workers_ready 2/);
  t.match(metrics, /edgedns_workers_restarts_total 2/);
  const queries = [...metrics.matchAll(/^edgedns_dns_queries_total\{transport="udp",family="ipv4",qtype="A",rcode="NOERROR"\} (\d+)/gm)].map((m) => Number(m[1]));
  t.equal(queries.length, 1, 'one series for the node, summed over workers');
  t.ok(queries[0] > 0, 'queries counted');
});
