// npm run bench:replication-lag: three edgedns nodes, each on its own pouchdb-server on loopback, meshed with
// `edgedns cluster join`. Twenty times: write a new address on node A's database, then ask node C over UDP every
// 5 ms until it answers the new address. Prints the median and p95 of that write-to-answer time (target: median
// under 2 s). Set EDGEDNS_BENCH_WRITES to change the count.

import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseCommandLine } from '../src/cli/args.js';
import { clusterCommand, CLUSTER_OPTIONS } from '../src/cli/cluster-commands.js';
import { Type } from '../src/proto/constants.js';
import { rrsetDocId } from '../src/zone/zone-docs.js';
import { startTestNode, type TestNode } from '../test/helpers/node.js';
import { decodeMessage } from '../test/helpers/decode.js';
import { udpExchange } from '../test/helpers/dns-socket.js';
import { startPouchServer, type PouchServer } from '../test/helpers/pouchdb-server.js';
import { buildQuery } from '../test/helpers/wire.js';

const WRITES = Number(process.env.EDGEDNS_BENCH_WRITES ?? 20);
const TIMEOUT_MS = 30_000;
const MAIL = rrsetDocId('example.com.', 'mail.example.com.', 'A');

async function join(local: PouchServer, peer: PouchServer): Promise<void> {
  await clusterCommand(parseCommandLine('cluster', ['join', peer.url, '--couchdb', local.url], CLUSTER_OPTIONS), new PassThrough());
}

async function answer(node: TestNode): Promise<string | undefined> {
  const reply = decodeMessage(await udpExchange(node.dnsPort, buildQuery('mail.example.com.', Type.A), 1000));
  const rdata = reply.answer[0]?.rdata;
  return rdata ? [...rdata].join('.') : undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const servers: PouchServer[] = [];
  const nodes: TestNode[] = [];
  try {
    for (let i = 0; i < 3; i++) servers.push(await startPouchServer({ inMemory: true }));
    const zone = path.resolve('zones/example.com.zone');
    for (const [i, db] of servers.entries()) {
      nodes.push(await startTestNode({ nodeId: `bench-${'abc'[i]}`, zoneFiles: i === 0 ? [zone] : [], flags: { couchdb: db.url, 'db-prefix': 'edgedns_' } }));
    }
    const [a, b, c] = servers;
    await join(a, b);
    await join(a, c);
    await join(b, c);
    const [nodeA, , nodeC] = nodes;
    const store = nodeA.node.store;
    const lags: number[] = [];
    for (let i = 1; i <= WRITES; i++) {
      const address = `198.51.100.${i}`;
      const doc = await store.get(MAIL);
      if (!doc) throw new Error(`${MAIL} missing on node A`);
      const started = performance.now();
      await store.put({ ...doc, records: [address] });
      let seen = false;
      while (performance.now() - started < TIMEOUT_MS) {
        if ((await answer(nodeC).catch(() => undefined)) === address) {
          seen = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (!seen) throw new Error(`write ${i} did not reach node C within ${TIMEOUT_MS} ms`);
      lags.push(performance.now() - started);
    }
    const sorted = [...lags].sort((x, y) => x - y);
    const median = percentile(sorted, 50);
    process.stdout.write(
      `replication lag, write on node A -> answer on node C, ${WRITES} writes, pouchdb-server on loopback:\n` +
        `  median ${median.toFixed(0)} ms, p95 ${percentile(sorted, 95).toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms` +
        ` (target: median under 2000 ms: ${median < 2000 ? 'met' : 'NOT met'})\n`,
    );
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
    await Promise.all(servers.map((server) => server.destroy()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
