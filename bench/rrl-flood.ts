// Issue 12's reflection flood at full size: identical queries (www.example.com A, EDNS) at RRL_FLOOD_QPS (default
// 50,000) per second from 127.0.1.1-127.0.1.8 for BENCH_SECONDS (default 10), against edgedns with its default rate
// limit (200/s, slip 2; loopback is whitelisted by default, so the bench passes --rrl-whitelist none). Meanwhile a
// client on 127.0.2.1 asks four questions in turn, one at a time, every 10 ms. Flood, client and server are three
// processes, so neither side's event loop starves the other. Prints both sides' counts.
//   npx tsc -p tsconfig.build.json && npx tsc -p tsconfig.bench.json && node dist-bench/bench/rrl-flood.js

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Type } from '../src/proto/constants.js';
import { flood, steadyClient } from '../test/dns/udp-flood.js';
import { buildQuery } from '../test/helpers/wire.js';
import { startTarget } from './attack-target.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const QPS = Number(process.env.RRL_FLOOD_QPS ?? 50_000);
const flooders = Array.from({ length: 8 }, (_, i) => `127.0.1.${i + 1}`);
const www = buildQuery('www.example.com.', Type.A, { edns: { udpSize: 1232 } });
const legit = [buildQuery('example.com.', Type.SOA), buildQuery('mail.example.com.', Type.A), buildQuery('nope.example.com.', Type.A), buildQuery('x.apps.example.com.', Type.A)];

const [role, portText] = process.argv.slice(2);
if (role === 'flood') {
  process.stdout.write(JSON.stringify(await flood(Number(portText), flooders, www, QPS, SECONDS * 1000)));
} else if (role === 'client') {
  process.stdout.write(JSON.stringify(await steadyClient(Number(portText), '127.0.2.1', legit, 10, SECONDS * 1000)));
} else {
  const target = await startTarget(['--rrl-whitelist', 'none']);
  try {
    const self = fileURLToPath(import.meta.url);
    const run = async (which: string): Promise<Record<string, number>> =>
      JSON.parse((await promisify(execFile)(process.execPath, [self, which, String(target.port)], { maxBuffer: 1 << 20 })).stdout) as Record<string, number>;
    const [attack, client] = await Promise.all([run('flood'), run('client')]);
    const dropped = await target.metric('edgedns_dns_rrl_limited_total', { action: 'dropped' });
    const slipped = await target.metric('edgedns_dns_rrl_limited_total', { action: 'slipped' });
    // queries_total counts every response sent (slipped ones too); the flood's are the A answers with NOERROR
    const floodSent = (await target.metric('edgedns_dns_queries_total', { transport: 'udp', qtype: 'A', rcode: 'NOERROR' })) - slipped;
    const seconds = attack.ms / 1000;
    process.stdout.write(
      `flood from 127.0.1.1-8: ${attack.sent} queries in ${seconds.toFixed(1)} s (${Math.round(attack.sent / seconds)}/s)\n` +
        `  the server read ${dropped + slipped + floodSent} of them (the rest overflowed the socket buffers)\n` +
        `  and sent ${floodSent} full answers (${(floodSent / seconds).toFixed(0)}/s, the client's A answers included), ${slipped} truncated (slipped), dropped ${dropped}\n` +
        `  received back: ${attack.answered} full answers (${(attack.answered / seconds).toFixed(0)}/s), ${attack.truncated} truncated\n` +
        `client on 127.0.2.1: ${client.asked} asked, ${client.answered} answered, ${client.truncated} truncated, ${client.unanswered} unanswered\n`,
    );
  } finally {
    await target.stop();
  }
}
