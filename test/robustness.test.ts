// Hostile input: 10,000 random and 10,000 mutated datagrams at a real edgedns process. Afterwards it must still be
// running, answer correctly, and its memory must not have grown with the flood.

import t, { type Test } from 'tap';
import path from 'node:path';
import { Rcode, Type } from '../src/proto/constants.js';
import { decodeMessage } from './helpers/decode.js';
import { frame, tcpExchange, tcpWriteAndWatch, udpExchange, udpSendAll } from './helpers/dns-socket.js';
import { spawnEdgedns } from './helpers/spawn-edgedns.js';
import { waitFor } from './helpers/wait-for.js';
import { buildQuery } from './helpers/wire.js';

/** A small seeded PRNG (mulberry32) so a failure can be replayed from the seed in the test output. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const seed = Number(process.env.EDGEDNS_FUZZ_SEED ?? Date.now() % 1_000_000);
const random = prng(seed);
const int = (n: number): number => Math.floor(random() * n);

function randomDatagram(): Buffer {
  const buf = Buffer.alloc(int(600));
  for (let i = 0; i < buf.length; i++) buf[i] = int(256);
  // half of them look like queries in the header, so they get past the first checks
  if (buf.length >= 4 && random() < 0.5) buf[2] &= 0x7f;
  return buf;
}

const seeds = [
  buildQuery('www.example.com.', Type.A),
  buildQuery('example.com.', Type.MX, { edns: { udpSize: 4096 } }),
  buildQuery('x.apps.example.com.', Type.AAAA, { edns: { options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, 198, 51, 100]) }] } }),
  buildQuery('big.example.com.', Type.TXT, { edns: { dnssecOk: true, options: [{ code: 10, data: Buffer.alloc(8, 7) }] } }),
  buildQuery('nope.sub.example.com.', Type.ANY),
];

function mutate(): Buffer {
  const base = Buffer.from(seeds[int(seeds.length)]);
  let buf: Buffer = base;
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const op = int(4);
    if (op === 0 && buf.length > 0) buf[int(buf.length)] = int(256);
    else if (op === 1 && buf.length > 0) buf = buf.subarray(0, int(buf.length));
    else if (op === 2) buf = Buffer.concat([buf, Buffer.from([int(256), int(256)])]);
    else if (buf.length >= 12) buf.writeUInt16BE(int(65536), 4 + 2 * int(4)); // a lying count
  }
  buf[2] &= 0x7f;
  return buf;
}

async function checkAnswers(t: Test, port: number): Promise<void> {
  const good = decodeMessage(await udpExchange(port, buildQuery('www.example.com.', Type.A)));
  t.equal(good.header.rcode, Rcode.NOERROR);
  t.ok(good.header.aa && good.answer.length > 0, 'still answers from the zone');
  const nx = decodeMessage(await udpExchange(port, buildQuery('missing.example.com.', Type.A)));
  t.equal(nx.header.rcode, Rcode.NXDOMAIN);
  const [tcp] = await tcpExchange(port, [buildQuery('example.com.', Type.SOA)]);
  t.equal(decodeMessage(tcp).header.rcode, Rcode.NOERROR, 'TCP still answers');
}

async function flood(port: number, make: () => Buffer, count: number): Promise<void> {
  // bursts of 100 then a pause, so the datagrams reach the server instead of overflowing the socket buffer
  for (let sent = 0; sent < count; sent += 100) {
    await udpSendAll(port, Array.from({ length: Math.min(100, count - sent) }, make));
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Messages the server has seen: answered plus dropped, from its own /metrics. */
async function messagesSeen(apiPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^edgedns_dns_(?:queries|dropped)_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  return total;
}

const node = await spawnEdgedns({ zonesDir: path.resolve('zones') });
t.teardown(() => node.stop());
t.comment(`fuzz seed ${seed} (set EDGEDNS_FUZZ_SEED to replay)`);

t.test('10,000 random datagrams do not stop the server', async (t) => {
  const seen = await messagesSeen(node.apiPort);
  await flood(node.dnsPort, randomDatagram, 10_000);
  t.equal(node.process.exitCode, null, 'process alive');
  const received = (await messagesSeen(node.apiPort)) - seen;
  // Datagrams lost in the loopback buffers while the machine is busy never reached the server; most must have
  // been read and judged, or this test would prove nothing about what the server does with them.
  t.ok(received >= 5_000, `the server read ${received} of 10,000 datagrams`);
  await checkAnswers(t, node.dnsPort);
});

t.test('10,000 mutated queries do not stop the server, and memory stays flat', async (t) => {
  await flood(node.dnsPort, mutate, 2_000); // warm up caches and the JIT before measuring
  const before = await node.rss();
  const seen = await messagesSeen(node.apiPort);
  await flood(node.dnsPort, mutate, 10_000);
  const received = (await messagesSeen(node.apiPort)) - seen;
  t.ok(received >= 5_000, `the server read ${received} of 10,000 datagrams`);
  await checkAnswers(t, node.dnsPort);
  const after = await node.rss();
  t.equal(node.process.exitCode, null, 'process alive');
  t.ok(after - before < 32 * 1024 * 1024, `RSS grew ${((after - before) / 1048576).toFixed(1)} MiB across the flood (limit 32)`);
  t.notMatch(node.logs(), /internal error while answering/, 'no query hit an internal error');
});

t.test('garbage over TCP closes that connection only', async (t) => {
  const net = await import('node:net');
  // A connection opened before, kept open while others send garbage.
  const bystander = net.connect(node.dnsPort, '127.0.0.1');
  bystander.setNoDelay(true);
  t.teardown(() => bystander.destroy());
  let fromBystander = Buffer.alloc(0);
  bystander.on('data', (chunk) => (fromBystander = Buffer.concat([fromBystander, chunk])));
  await new Promise<void>((resolve, reject) => {
    bystander.once('connect', resolve);
    bystander.once('error', reject);
  });

  // Messages the server drops rather than answers; it must hang up on them without our side ending first, well
  // before its idle timeout (10 s).
  const response = buildQuery('example.com.', Type.A);
  response[2] |= 0x80; // QR: a response, not a query
  for (const [what, garbage] of [
    ['a message shorter than a header', Buffer.from([0x12, 0x34, 0x01])],
    ['a response sent to the server', response],
  ] as const) {
    const seen = await tcpWriteAndWatch(node.dnsPort, frame(garbage), 2000);
    t.ok(seen.closed, `${what}: the server closes the connection (after ${seen.ms} ms)`);
    t.equal(seen.received.length, 0, `${what}: and sends nothing back`);
  }

  // Random junk, then our FIN: whatever the junk was, the server ends the connection within 2 s.
  let closed = 0;
  for (let i = 0; i < 50; i++) {
    const junk = Buffer.alloc(int(300));
    for (let j = 0; j < junk.length; j++) junk[j] = int(256);
    closed += await new Promise<number>((resolve) => {
      const socket = net.connect(node.dnsPort, '127.0.0.1', () => socket.end(junk));
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(0);
      }, 2000);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(1);
      });
    });
  }
  t.equal(closed, 50, 'every junk connection was closed by the server within 2 s');

  // The connection opened before all this still answers.
  bystander.write(frame(buildQuery('example.com.', Type.SOA, { id: 4242 })));
  const answered = await waitFor(() => fromBystander.length >= 2 && fromBystander.length >= 2 + fromBystander.readUInt16BE(0), { what: 'an answer on the connection opened before the garbage', timeoutMs: 2000 });
  t.ok(answered.value, 'the other connection stays open');
  const reply = decodeMessage(fromBystander.subarray(2));
  t.equal(reply.header.id, 4242);
  t.equal(reply.header.rcode, Rcode.NOERROR, 'and answers');
  await checkAnswers(t, node.dnsPort);
});
