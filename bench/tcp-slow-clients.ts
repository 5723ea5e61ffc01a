// Issue 12's slow-client attack at full size: 512 TCP clients each sending one octet every 4 s (a client the server
// closes connects again 250 ms later), for BENCH_SECONDS (default 60), first all from 127.0.1.1, then spread over
// 64 addresses (8 each: enough to fill the default 512 slots). Meanwhile a new client from 127.0.0.1 asks one
// question over TCP every 500 ms. Attackers, server and the new client are three processes, so the attackers' work
// does not delay the new client's own event loop. Prints what the attackers held and how fast the new clients were
// answered.
//   npx tsc -p tsconfig.build.json && npx tsc -p tsconfig.bench.json && node dist-bench/bench/tcp-slow-clients.js

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Type } from '../src/proto/constants.js';
import { askFrom, trickle } from '../test/dns/tcp-clients.js';
import { buildQuery } from '../test/helpers/wire.js';
import { percentile, startTarget, type AttackTarget } from './attack-target.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CLIENTS = 512;
const query = buildQuery('www.example.com.', Type.A, { id: 7 });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The attackers' process: returns how many connections it opened. */
async function slowClients(port: number, addresses: string[]): Promise<number> {
  const until = Date.now() + SECONDS * 1000;
  let connects = 0;
  const attacker = async (address: string): Promise<void> => {
    while (Date.now() < until) {
      try {
        connects++;
        const conn = await trickle(port, address, query, 4000, until - Date.now());
        await conn.closed;
      } catch {
        // refused before the handshake finished
      }
      await sleep(250);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => attacker(addresses[i % addresses.length])));
  return connects;
}

async function attack(target: AttackTarget, label: string, addresses: string[]): Promise<void> {
  const until = Date.now() + SECONDS * 1000;
  const attackers = promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), 'attack', String(target.port), String(addresses.length)], { maxBuffer: 1 << 20 });
  await sleep(2000); // let them connect
  const latencies: number[] = [];
  const held: number[] = [];
  let failures = 0;
  while (Date.now() < until - 1000) {
    held.push(await target.metric('edgedns_dns_tcp_connections'));
    try {
      latencies.push((await askFrom(target.port, '127.0.0.1', query, 1000)).ms);
    } catch {
      failures++;
    }
    await sleep(500);
  }
  const connects = Number((await attackers).stdout);
  const reasons = ['per-address-limit', 'message-timeout', 'idle-timeout', 'evicted-idle', 'evicted-busy', 'client'];
  const closes = await Promise.all(reasons.map((reason) => target.metric('edgedns_dns_tcp_closed_total', { reason })));
  process.stdout.write(
    `${label}: ${CLIENTS} slow clients from ${addresses.length} address(es), ${SECONDS} s, ${connects} connection attempts\n` +
      `  connections open at the server: median ${percentile(held, 50)}, max ${Math.max(...held)}\n` +
      `  closed: ${reasons.map((r, i) => `${r} ${closes[i]}`).join(', ')}\n` +
      `  new client from 127.0.0.1: ${latencies.length} answered, ${failures} failed; latency median ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms\n`,
  );
}

const addressList = (count: number): string[] => Array.from({ length: count }, (_, i) => `127.0.1.${i + 1}`);
if (process.argv[2] === 'attack') {
  process.stdout.write(String(await slowClients(Number(process.argv[3]), addressList(Number(process.argv[4])))));
} else {
  for (const [label, count] of [['one address', 1], ['64 addresses', 64]] as const) {
    const target = await startTarget([]);
    try {
      await attack(target, label, addressList(count));
    } finally {
      await target.stop();
    }
  }
}
