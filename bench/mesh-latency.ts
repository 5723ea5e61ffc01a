// npm run bench:mesh-latency: how long a write takes to be answered by every node of an N-node mesh (default 7,
// EDGEDNS_BENCH_NODES), against the same mesh without edgedns, in one command. Everything on 127.0.0.1, every
// process stopped at the end. Writes bench/results/mesh-latency.md (when both parts run).
//
//  1. bare: N pouchdb-servers meshed by the real `edgedns cluster join` as the docs say (node i joins every node
//     j > i: N(N-1)/2 joins, N(N-1) replications). Documents written on one server, timed until every other server
//     has them, each watched by a longpoll on its `_changes` filtered to them (polling N servers over HTTP would cost
//     more CPU than the replication). Twice: one document, which is what one RRset write through edgedns stores (the
//     zone document naming the version, carrying the RRset and the SOA with the new serial), then three in one bulk,
//     what such a write stored before its RRsets went inline. pouchdb-server answers a waiting longpoll with the first
//     change alone, so its replications carry such a bulk in two rounds, and the second competes with the storm the
//     first set off.
//  2. edgedns: N new pouchdb-servers and N `edgedns serve --couchdb` processes (one per node, as deployed), meshed
//     the same way. A PUT of an A RRset through a writer's API, timed from the PUT's start until every node answers
//     the new address over UDP (each asked every 5 ms). The same longpolls tell when the write's document was in every
//     database: what comes after is edgedns's own time.
//
// Writers take turns: nodes 1, 3, 5, 7 (with seven nodes the first holds twelve replications, the last none), with a
// pause after each write, after one warm-up write per writer that is shown apart (a node's first write also records
// the first use of its API key, one more document for the mesh to carry). Per row: median, p95 and max, and the CPU the servers and the nodes used per write; the
// ratios edgedns / bare; what the nodes did meanwhile that makes work for the whole mesh (health-document writes,
// replication restarts, warnings). The CPU column is the steadier figure on a shared machine.
// EDGEDNS_BENCH_WRITES (default 20) writes per row; EDGEDNS_BENCH_ONLY=bare|edgedns runs one part;
// EDGEDNS_BENCH_ARGS adds `serve` flags to every node (e.g. "--watchdog-interval 600"); EDGEDNS_BENCH_GAP_MS sets the
// pause after each edgedns write (default 500); EDGEDNS_BENCH_IDLE_S leaves the mesh alone that long after the writes
// and says what it costs with nothing changing.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseCommandLine } from '../src/cli/args.js';
import { clusterCommand, CLUSTER_OPTIONS } from '../src/cli/cluster-commands.js';
import { Type } from '../src/proto/constants.js';
import { zoneDocId } from '../src/zone/zone-docs.js';
import { cpuSeconds } from './cpu.js';
import { decodeMessage } from '../test/helpers/decode.js';
import { udpExchange } from '../test/helpers/dns-socket.js';
import { startPouchServer, type PouchServer } from '../test/helpers/pouchdb-server.js';
import { spawnEdgedns, type SpawnedNode } from '../test/helpers/spawn-edgedns.js';
import { buildQuery } from '../test/helpers/wire.js';

const N = Number(process.env.EDGEDNS_BENCH_NODES ?? 7);
const WRITES = Number(process.env.EDGEDNS_BENCH_WRITES ?? 20);
const ONLY = process.env.EDGEDNS_BENCH_ONLY;
const EXTRA_ARGS = (process.env.EDGEDNS_BENCH_ARGS ?? '').split(/\s+/).filter(Boolean);
const DB = 'edgedns_data';
/** A write not everywhere by then fails the run: something is broken, not slow. */
const WRITE_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 120_000;
/**
 * After the mesh is up, before the first write, it must go quiet: no database changing for this long (a new mesh of
 * seven edgedns nodes writes health documents for a while, as each watchdog finds its links, and every write makes
 * work for every replication). Bounded by QUIET_TIMEOUT_MS.
 */
const QUIET_MS = 5000;
const QUIET_TIMEOUT_MS = 90_000;
/** Between writes, so each one is timed on a mesh that has gone quiet again. */
const GAP_MS = 500;
/**
 * Between edgedns writes (EDGEDNS_BENCH_GAP_MS): longer stretches the row over more health heartbeats, which are
 * writes too; spanning several of them shows what they cost writes at their steady rate.
 */
const NODE_GAP_MS = Number(process.env.EDGEDNS_BENCH_GAP_MS ?? GAP_MS);
/** After the edgedns writes, the mesh left alone this long (EDGEDNS_BENCH_IDLE_S, default 0: not measured). */
const IDLE_S = Number(process.env.EDGEDNS_BENCH_IDLE_S ?? 0);
const POLL_MS = 5;
const ZONE_NAME = 'example.org.';
const ZONE = ['$ORIGIN example.org.', '$TTL 60', '@ IN SOA ns1 hostmaster 1 7200 1800 1209600 300', '  IN NS ns1', 'ns1 IN A 192.0.2.53', 'mail IN A 192.0.2.25', ''].join('\n');
/** What a one-RRset write stores: the zone document naming the version, carrying the RRset and the SOA inline. */
const WRITE_DOCS = [zoneDocId(ZONE_NAME)];
/** A bulk of three, for comparison: what an RRset write stored before its RRsets went inline (a fold writes more). */
const BULK_DOCS = 3;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The whole run is bounded: past this, whatever it waits on, it stops its processes and says where it was. */
const RUN_TIMEOUT_MS = 20 * 60_000 + IDLE_S * 1000;
let phase = 'starting';
/** Says on stderr what the run does now (so a stuck run says where it stuck). */
function step(what: string): void {
  phase = what;
  process.stderr.write(`[mesh-latency] ${what}\n`);
}

interface Timing {
  writer: number;
  /** ms from the write's start until every node had it (bare) or answered it (edgedns). */
  total: number;
  /** edgedns only: ms until the PUT returned (the writer serves it then), and until every database held the write. */
  put?: number;
  stored?: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function stats(values: number[]): { median: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] };
}

/** CPU seconds (user + system) so far of this process's children: the pouchdb-servers and the edgedns nodes. */
interface Cpu {
  servers: number;
  nodes: number;
}

interface Series {
  timings: Timing[];
  /** The writes before: one per writer, not in the figures. */
  warmUp: Timing[];
  /** CPU seconds per write (the pause after it included). */
  cpu: Cpu;
  /** edgedns: counters summed over the nodes, during the writes. */
  during?: Record<string, number>;
  /** edgedns: warnings and replication restarts the nodes logged during the writes, by message. */
  logged?: Record<string, number>;
  /** edgedns, with EDGEDNS_BENCH_IDLE_S: the mesh left alone after the writes. */
  idle?: Idle;
}

/** What a mesh with nothing changing costs: CPU seconds per second of all servers and all nodes, and their counters. */
interface Idle {
  seconds: number;
  cpuPerSecond: Cpu;
  counters: Record<string, number>;
}

/** This process's child processes (pouchdb-servers, edgedns nodes), from /proc. */
function children(): string[] {
  return readdirSync('/proc/self/task').flatMap((task) => readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
}

function childCpu(): Cpu {
  const cpu: Cpu = { servers: 0, nodes: 0 };
  for (const pid of children()) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (command.includes('pouchdb-server')) cpu.servers += cpuSeconds(Number(pid));
      else if (command.includes('main.js')) cpu.nodes += cpuSeconds(Number(pid));
    } catch {
      // exited meanwhile
    }
  }
  return cpu;
}

function perWrite(before: Cpu, after: Cpu): Cpu {
  return { servers: (after.servers - before.servers) / WRITES, nodes: (after.nodes - before.nodes) / WRITES };
}

/** pouchdb-servers two at a time: a busy two-core machine fails to start seven at once in time. */
async function startServers(count: number): Promise<PouchServer[]> {
  const servers: PouchServer[] = [];
  for (let i = 0; i < count; i += 2) servers.push(...(await Promise.all([i, i + 1].filter((j) => j < count).map(() => startPouchServer()))));
  return servers;
}

/** The mesh as docs/cluster.md builds it: node i runs `edgedns cluster join` for every node j > i. */
async function mesh(servers: PouchServer[]): Promise<void> {
  for (let i = 0; i < servers.length; i++) {
    for (let j = i + 1; j < servers.length; j++) {
      await clusterCommand(parseCommandLine('cluster', ['join', servers[j].url, '--couchdb', servers[i].url], CLUSTER_OPTIONS), new PassThrough());
    }
  }
}

async function couch<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers }, signal: init.signal ?? AbortSignal.timeout(WRITE_TIMEOUT_MS) });
  const body = (await response.json()) as T;
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

const updateSeq = async (server: PouchServer): Promise<string | number> => (await couch<{ update_seq: string | number }>(`${server.url}${DB}`)).update_seq;

/** Waits until no server's database has changed for QUIET_MS; says so when it never does. */
async function quiet(servers: PouchServer[]): Promise<void> {
  const deadline = performance.now() + QUIET_TIMEOUT_MS;
  let last = (await Promise.all(servers.map(updateSeq))).join(' ');
  let since = performance.now();
  while (performance.now() - since < QUIET_MS) {
    if (performance.now() > deadline) {
      process.stderr.write(`the mesh did not go quiet for ${QUIET_MS} ms within ${QUIET_TIMEOUT_MS} ms; measuring anyway\n`);
      return;
    }
    await sleep(250);
    const now = (await Promise.all(servers.map(updateSeq))).join(' ');
    if (now !== last) {
      last = now;
      since = performance.now();
    }
  }
}

/**
 * Resolves with the time (performance.now()) at which every one of `ids` has changed in the server's database after
 * `since`: longpolls on `_changes` filtered to those ids, so the server says it the moment it happens.
 */
async function arrival(server: PouchServer, ids: string[], since: string | number, deadline: number): Promise<number> {
  const missing = new Set(ids);
  let from = since;
  while (performance.now() < deadline) {
    const qs = new URLSearchParams({ feed: 'longpoll', since: String(from), filter: '_doc_ids', doc_ids: JSON.stringify(ids), timeout: '10000' });
    const batch = await couch<{ results: { id: string }[]; last_seq: string | number }>(`${server.url}${DB}/_changes?${qs}`);
    for (const change of batch.results) missing.delete(change.id);
    if (missing.size === 0) return performance.now();
    from = batch.last_seq;
  }
  throw new Error(`${ids.join(', ')} did not reach ${server.url} within ${WRITE_TIMEOUT_MS} ms`);
}

/** Writers in turn: nodes 1, 3, 5, 7, … (every other node). */
const WRITERS = Array.from({ length: Math.ceil(N / 2) }, (_, i) => 2 * i);
function writerOf(write: number): number {
  return WRITERS[write % WRITERS.length];
}
/**
 * One write per writer first, timed but left out of the figures: each server's and node's first time through
 * (and each node's first use of its API key, which writes the key document: see the warm-up line).
 */
const WARM_UP = WRITERS.length;

async function bare(): Promise<Series[]> {
  step(`bare: starting ${N} pouchdb-servers`);
  const servers = await startServers(N);
  try {
    step('bare: cluster join');
    await mesh(servers);
    const write = async (writer: number, ids: string[]): Promise<number> => {
      const others = servers.filter((_, i) => i !== writer);
      const seqs = await Promise.all(others.map(updateSeq));
      const started = performance.now();
      const deadline = started + WRITE_TIMEOUT_MS;
      const arrived = Promise.all(others.map((server, i) => arrival(server, ids, seqs[i], deadline)));
      const docs = ids.map((id) => ({ _id: id, written: new Date().toISOString() }));
      await couch(`${servers[writer].url}${DB}/_bulk_docs`, { method: 'POST', body: JSON.stringify({ docs }) });
      return Math.max(...(await arrived)) - started;
    };
    // The replications start on their own schedule: the first document tells when they all run.
    step('bare: first document, then waiting for the mesh to go quiet');
    await write(0, ['bench/warm-up']);
    await quiet(servers);
    const series = async (docs: number): Promise<Series> => {
      step(`bare: ${WARM_UP} + ${WRITES} writes of ${docs} document(s)`);
      const warmUp: Timing[] = [];
      const timings: Timing[] = [];
      let before = childCpu();
      for (let i = 0; i < WARM_UP + WRITES; i++) {
        if (i === WARM_UP) before = childCpu();
        const writer = writerOf(i);
        const total = await write(writer, Array.from({ length: docs }, (_, d) => `bench/write-${docs}-${i}-${d}`));
        (i < WARM_UP ? warmUp : timings).push({ writer, total });
        await sleep(GAP_MS);
      }
      return { timings, warmUp, cpu: perWrite(before, childCpu()) };
    };
    // One document, then what one RRset write through edgedns stores in one bulk: the RRset, the SOA, the zone.
    return [await series(WRITE_DOCS.length), await series(BULK_DOCS)];
  } finally {
    await Promise.all(servers.map((server) => server.destroy()));
  }
}

let queryId = 1;
async function answer(node: SpawnedNode): Promise<string | undefined> {
  queryId = (queryId % 65_535) + 1;
  const reply = decodeMessage(await udpExchange(node.dnsPort, buildQuery('mail.example.org.', Type.A, { id: queryId }), 1000));
  const rdata = reply.answer.find((rr) => rr.type === 'A')?.rdata;
  return rdata ? [...rdata].join('.') : undefined;
}

/** Counters summed over every node: what the nodes did meanwhile that makes work for the whole mesh. */
const COUNTERS = ['edgedns_health_writes_total', 'edgedns_replication_restarts_total'] as const;

async function counters(nodes: SpawnedNode[], keys: string[]): Promise<Record<string, number>> {
  const sums: Record<string, number> = Object.fromEntries(COUNTERS.map((name) => [name, 0]));
  await Promise.all(
    nodes.map(async (node, i) => {
      const response = await fetch(`http://127.0.0.1:${node.apiPort}/metrics`, { headers: { 'x-api-key': keys[i] }, signal: AbortSignal.timeout(WRITE_TIMEOUT_MS) });
      for (const line of (await response.text()).split('\n')) {
        const name = COUNTERS.find((c) => line.startsWith(`${c}{`) || line.startsWith(`${c} `));
        if (name) sums[name] += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }),
  );
  return sums;
}

/** What the nodes logged since the marks, warnings and replication restarts only, counted by message (and why). */
function loggedSince(nodes: SpawnedNode[], marks: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  nodes.forEach((node, i) => {
    for (const line of node.logs().slice(marks[i]).split('\n')) {
      let entry: { level?: number; msg?: string; why?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if ((entry.level ?? 0) < 40 && entry.msg !== 'replication restarted') continue;
      const key = `${entry.msg}${entry.why ? ` (${entry.why})` : ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  });
  return counts;
}

/** Resolves with the time at which the node first answers `address` (asked every POLL_MS). */
async function answered(node: SpawnedNode, address: string, deadline: number): Promise<number> {
  while (performance.now() < deadline) {
    if ((await answer(node).catch(() => undefined)) === address) return performance.now();
    await sleep(POLL_MS);
  }
  throw new Error(`the node on DNS port ${node.dnsPort} did not answer ${address} within ${WRITE_TIMEOUT_MS} ms`);
}

async function edgedns(): Promise<Series> {
  step(`edgedns: starting ${N} pouchdb-servers`);
  const servers = await startServers(N);
  const nodes: SpawnedNode[] = [];
  const zonesDir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-mesh-zones-'));
  try {
    await writeFile(path.join(zonesDir, 'example.org.zone'), ZONE);
    step(`edgedns: starting ${N} nodes`);
    for (const [i, server] of servers.entries()) {
      nodes.push(
        await spawnEdgedns({
          nodeId: `n${i + 1}`,
          ...(i === 0 ? { zonesDir } : {}),
          extraArgs: ['--couchdb', server.url, ...EXTRA_ARGS],
        }),
      );
    }
    step('edgedns: cluster join, then the zone on every node');
    await mesh(servers);
    const ready = performance.now() + READY_TIMEOUT_MS;
    await Promise.all(nodes.map((node) => answered(node, '192.0.2.25', ready)));
    step('edgedns: waiting for the mesh to go quiet');
    await quiet(servers);
    step(`edgedns: ${WARM_UP} + ${WRITES} RRset writes`);
    const keys = await Promise.all(nodes.map(async (node) => (await readFile(path.join(node.dataDir, 'admin.key'), 'utf8')).trim()));
    const warmUp: Timing[] = [];
    const timings: Timing[] = [];
    let before = childCpu();
    let countersBefore = await counters(nodes, keys);
    let logMarks = nodes.map((node) => node.logs().length);
    for (let i = 0; i < WARM_UP + WRITES; i++) {
      if (i === WARM_UP) {
        before = childCpu();
        countersBefore = await counters(nodes, keys);
        logMarks = nodes.map((node) => node.logs().length);
      }
      const writer = writerOf(i);
      const address = `198.51.100.${i + 1}`;
      const seqs = await Promise.all(servers.map(updateSeq));
      const started = performance.now();
      const deadline = started + WRITE_TIMEOUT_MS;
      const stored = Promise.all(servers.map((server, i) => arrival(server, WRITE_DOCS, seqs[i], deadline)));
      const seen = Promise.all(nodes.map((node) => answered(node, address, deadline)));
      const response = await fetch(`http://127.0.0.1:${nodes[writer].apiPort}/v1/zones/${ZONE_NAME}/rrsets/mail/A`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-api-key': keys[writer] },
        body: JSON.stringify({ ttl: 60, records: [address] }),
        signal: AbortSignal.timeout(WRITE_TIMEOUT_MS),
      });
      if (response.status !== 200) throw new Error(`PUT on n${writer + 1}: ${response.status} ${await response.text()}`);
      const put = performance.now() - started;
      (i < WARM_UP ? warmUp : timings).push({ writer, total: Math.max(...(await seen)) - started, put, stored: Math.max(...(await stored)) - started });
      await sleep(NODE_GAP_MS);
    }
    const cpu = perWrite(before, childCpu());
    const countersAfter = await counters(nodes, keys);
    const during = Object.fromEntries(COUNTERS.map((name) => [name, countersAfter[name] - countersBefore[name]]));
    const logged = loggedSince(nodes, logMarks);
    return { timings, warmUp, cpu, during, logged, ...(IDLE_S > 0 ? { idle: await idle(nodes, keys) } : {}) };
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await Promise.all(servers.map((server) => server.destroy()));
    await rm(zonesDir, { recursive: true, force: true });
  }
}

/** The mesh left alone for IDLE_S seconds: what it costs when nothing changes (issue 13, item 8). */
async function idle(nodes: SpawnedNode[], keys: string[]): Promise<Idle> {
  step(`edgedns: ${IDLE_S} s with nothing written`);
  const before = childCpu();
  const countersBefore = await counters(nodes, keys);
  await sleep(IDLE_S * 1000);
  const after = childCpu();
  const countersAfter = await counters(nodes, keys);
  return {
    seconds: IDLE_S,
    cpuPerSecond: { servers: (after.servers - before.servers) / IDLE_S, nodes: (after.nodes - before.nodes) / IDLE_S },
    counters: Object.fromEntries(COUNTERS.map((name) => [name, countersAfter[name] - countersBefore[name]])),
  };
}

function row(label: string, values: number[], cpu?: Cpu): string {
  const { median, p95, max } = stats(values);
  const cpuText = cpu ? `${cpu.servers.toFixed(2)} | ${cpu.nodes > 0 ? cpu.nodes.toFixed(2) : '–'}` : ' | ';
  return `| ${label} | ${median.toFixed(0)} | ${p95.toFixed(0)} | ${max.toFixed(0)} | ${cpuText} |`;
}

function ratio(label: string, edge: Series, bareSeries: Series): string {
  const e = stats(edge.timings.map((t) => t.total));
  const b = stats(bareSeries.timings.map((t) => t.total));
  return `edgedns / bare (${label}): median ${(e.median / b.median).toFixed(2)}, p95 ${(e.p95 / b.p95).toFixed(2)}`;
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;
  }
}

async function main(): Promise<void> {
  if (!Number.isInteger(N) || N < 2 || N > 15) throw new Error(`EDGEDNS_BENCH_NODES must be 2..15, not ${process.env.EDGEDNS_BENCH_NODES}`);
  if (!Number.isInteger(NODE_GAP_MS) || NODE_GAP_MS < 0 || NODE_GAP_MS > 60_000) throw new Error(`EDGEDNS_BENCH_GAP_MS must be 0..60000, not ${process.env.EDGEDNS_BENCH_GAP_MS}`);
  if (!Number.isInteger(IDLE_S) || IDLE_S < 0 || IDLE_S > 900) throw new Error(`EDGEDNS_BENCH_IDLE_S must be 0..900, not ${process.env.EDGEDNS_BENCH_IDLE_S}`);
  if (!Number.isInteger(WRITES) || WRITES < 1 || WRITES > 200) throw new Error(`EDGEDNS_BENCH_WRITES must be 1..200, not ${process.env.EDGEDNS_BENCH_WRITES}`);
  const joins = (N * (N - 1)) / 2;
  const writers = [...new Set(Array.from({ length: WRITES }, (_, w) => writerOf(w) + 1))].join(', ');
  const title = `${N} nodes, ${joins} joins, ${2 * joins} replications, pouchdb-server on loopback; ${WRITES} writes per row on nodes ${writers}; ${NODE_GAP_MS} ms pause after each edgedns write${EXTRA_ARGS.length > 0 ? `; serve ${EXTRA_ARGS.join(' ')}` : ''}`;
  process.stdout.write(`mesh latency: ${title}\n`);
  const loadBefore = uptime();
  const [single, bulk] = ONLY === 'edgedns' ? [] : await bare();
  const withNodes = ONLY === 'bare' ? undefined : await edgedns();
  const loadAfter = uptime();
  const lines = ['| ms; CPU in s per write | median | p95 | max | CPU servers | CPU nodes |', '|---|---:|---:|---:|---:|---:|'];
  if (single && bulk) {
    lines.push(row('bare mesh: 1 document written → on every other server (what one RRset write stores)', single.timings.map((t) => t.total), single.cpu));
    lines.push(row('bare mesh: 3 documents in one bulk (what an RRset write stored before)', bulk.timings.map((t) => t.total), bulk.cpu));
  }
  if (withNodes) {
    const { timings } = withNodes;
    lines.push(row('**edgedns: PUT → answered by every node**', timings.map((t) => t.total), withNodes.cpu));
    lines.push(row('… PUT returned (the writer serves it)', timings.map((t) => t.put ?? 0)));
    lines.push(row('… the write in every database', timings.map((t) => t.stored ?? 0)));
    lines.push(row('… edgedns after that (answered − in every database)', timings.map((t) => t.total - (t.stored ?? 0))));
  }
  const notes: string[] = [];
  if (single && withNodes) notes.push(ratio('1 document', withNodes, single));
  if (bulk && withNodes) notes.push(ratio('3 documents', withNodes, bulk));
  if (withNodes?.during) notes.push(`during the edgedns writes, over all nodes: ${Object.entries(withNodes.during).map(([name, value]) => `${name} +${value}`).join(', ')}`);
  const idled = withNodes?.idle;
  if (idled) {
    const { servers, nodes } = idled.cpuPerSecond;
    const counted = Object.entries(idled.counters).map(([name, value]) => `${name} +${value}`).join(', ');
    notes.push(`left alone ${idled.seconds} s after the writes: servers ${servers.toFixed(3)}, nodes ${nodes.toFixed(3)} CPU-seconds per second (${((servers + nodes) * 100).toFixed(1)} % of one core); ${counted}`);
  }
  for (const [msg, count] of Object.entries(withNodes?.logged ?? {})) notes.push(`logged during the edgedns writes: ${count} × "${msg}"`);
  const perWriteText = (timings: Timing[]): string => timings.map((t) => `n${t.writer + 1} ${t.total.toFixed(0)}`).join(', ');
  if (bulk) notes.push(`each bare 3-document write (writer, ms): ${perWriteText(bulk.timings)}; warm-up before them: ${perWriteText(bulk.warmUp)}`);
  if (withNodes) notes.push(`each edgedns write (writer, ms): ${perWriteText(withNodes.timings)}; warm-up before them: ${perWriteText(withNodes.warmUp)}`);
  process.stdout.write(`${lines.join('\n')}\n${notes.join('\n')}\nbefore: ${loadBefore}\nafter:  ${loadAfter}\n`);
  if (single && bulk && withNodes) {
    const report = [
      '# Mesh latency: a write to every node (issue 13): `npm run bench:mesh-latency`',
      '',
      `${title}; ${os.cpus().length} CPUs, shared with other work. ${new Date().toISOString()}.`,
      '',
      `\`uptime\` before: \`${loadBefore}\`  `,
      `\`uptime\` after: \`${loadAfter}\``,
      '',
      ...lines,
      '',
      ...notes.map((note) => `- ${note}`),
      '',
      'What the rows mean and what the figures say: [docs/benchmarks.md](../../docs/benchmarks.md#mesh-latency).',
      '',
    ].join('\n');
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/mesh-latency.md', report);
  }
}

const guard = setTimeout(() => {
  process.stderr.write(`mesh-latency did not finish within ${RUN_TIMEOUT_MS / 60_000} min; it was at: ${phase}. Stopping its processes.\n`);
  for (const pid of children()) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  process.exit(1);
}, RUN_TIMEOUT_MS);

main()
  .catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(guard));
