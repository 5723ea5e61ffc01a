// DNS over TCP against slow and greedy clients (issue 12): deadlines that trickled octets cannot extend, a cap per
// client address and in total, the oldest idle connection closed first under pressure, a counter per close reason.
// Scaled down to run in seconds; bench/tcp-slow-clients.ts runs the full-size attack (512 clients, 60 s).

import t from 'tap';
import path from 'node:path';
import { Rcode, Type } from '../../src/proto/constants.js';
import { buildQuery, parseHeader } from '../helpers/wire.js';
import { askFrom, connectFrom, idleAfterOneQuery, lifetimeFrom, trickle, type OpenConnection } from './tcp-clients.js';
import { startTestNode } from '../helpers/node.js';

const ZONE = path.resolve('zones/example.com.zone');
const query = buildQuery('www.example.com.', Type.A, { id: 99 });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a client trickling one octet at a time is closed at the message deadline, however often it sends', async (t) => {
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'tcp-message-timeout': '0.6', 'tcp-idle-timeout': '5' } });
  t.teardown(() => server.close());
  const slow = await trickle(server.dnsPort, '127.0.1.1', query, 100, 5000);
  const ms = await slow.closed;
  t.ok(ms >= 500 && ms < 1500, `closed after ${ms.toFixed(0)} ms with a 600 ms message deadline, octets every 100 ms`);
  t.equal(await server.metricTotal('edgedns_dns_tcp_closed_total', { reason: 'message-timeout' }), 1);
});

t.test('a connection that sends nothing is closed at the idle deadline; one that keeps asking stays', async (t) => {
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'tcp-idle-timeout': '0.5', 'tcp-message-timeout': '2' } });
  t.teardown(() => server.close());
  const silent = await connectFrom(server.dnsPort, '127.0.1.2');
  const busy = await idleAfterOneQuery(server.dnsPort, '127.0.1.3', query);
  // whole queries every 200 ms: each answer starts a new idle period
  for (let i = 0; i < 6; i++) {
    await sleep(200);
    t.notOk(busy.isClosed(), `still open after query ${i + 1}`);
    busy.socket.write(Buffer.concat([Buffer.from([0, query.length]), query]));
  }
  const ms = await silent.closed;
  t.ok(ms >= 400 && ms < 1200, `the silent one closed after ${ms.toFixed(0)} ms (idle deadline 500 ms)`);
  t.ok(await server.metricTotal('edgedns_dns_tcp_closed_total', { reason: 'idle-timeout' }) >= 1);
  const closedBusy = await busy.closed; // once it stops asking, it goes idle too
  t.ok(closedBusy > 1200, 'the asking client was only closed once it went quiet');
});

t.test('one address gets its share of connections; more are refused while another address is served', async (t) => {
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'tcp-max-per-address': '4', 'tcp-message-timeout': '10', 'tcp-idle-timeout': '10' } });
  const slow: OpenConnection[] = [];
  t.teardown(async () => {
    for (const c of slow) c.socket.destroy();
    await server.close();
  });
  for (let i = 0; i < 4; i++) slow.push(await trickle(server.dnsPort, '127.0.1.4', query, 1000, 10_000));
  await sleep(100); // their first octets have arrived: all four are reading a message
  const ms = await lifetimeFrom(server.dnsPort, '127.0.1.4');
  t.ok(ms < 500, `the fifth connection from 127.0.1.4 was refused at once (${ms.toFixed(0)} ms)`);
  t.equal(await server.metricTotal('edgedns_dns_tcp_closed_total', { reason: 'per-address-limit' }), 1);
  t.notOk(slow.some((c) => c.isClosed()), 'its first four are untouched');
  const { reply } = await askFrom(server.dnsPort, '127.0.0.1', query);
  t.equal(parseHeader(reply).rcode, Rcode.NOERROR, 'another address is answered');
  // an idle connection of a client at its cap makes way for that client's new one
  const idle = await idleAfterOneQuery(server.dnsPort, '127.0.1.5', query);
  for (let i = 0; i < 3; i++) slow.push(await trickle(server.dnsPort, '127.0.1.5', query, 1000, 10_000));
  await sleep(100);
  const answered = await askFrom(server.dnsPort, '127.0.1.5', query);
  t.equal(parseHeader(answered.reply).id, 99, 'a client at its cap is answered on a new connection ...');
  await idle.closed;
  t.pass('... by closing its own idle connection');
});

t.test('at the total cap, the oldest idle connection is closed first, then the slowest unfinished message', async (t) => {
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'tcp-max-connections': '4', 'tcp-message-timeout': '10', 'tcp-idle-timeout': '10' } });
  const open: OpenConnection[] = [];
  t.teardown(async () => {
    for (const c of open) c.socket.destroy();
    await server.close();
  });
  const slowA = await trickle(server.dnsPort, '127.0.1.6', query, 1000, 10_000);
  const slowB = await trickle(server.dnsPort, '127.0.1.7', query, 1000, 10_000);
  const slowC = await trickle(server.dnsPort, '127.0.1.8', query, 1000, 10_000);
  const idle = await idleAfterOneQuery(server.dnsPort, '127.0.1.9', query); // the newest, but idle
  open.push(slowA, slowB, slowC, idle);
  await sleep(100);
  const first = await askFrom(server.dnsPort, '127.0.0.1', query);
  t.equal(parseHeader(first.reply).id, 99, 'a fifth client is answered');
  await idle.closed;
  t.notOk(slowA.isClosed() || slowB.isClosed() || slowC.isClosed(), 'the idle connection went, not a busy one');
  t.equal(await server.metricTotal('edgedns_dns_tcp_closed_total', { reason: 'evicted-idle' }), 1);
  // fill the slot again; then all four hold unfinished messages, and the one begun longest ago makes way
  const slowD = await trickle(server.dnsPort, '127.0.1.10', query, 1000, 10_000);
  open.push(slowD);
  await sleep(100);
  open.push(await trickle(server.dnsPort, '127.0.1.11', query, 1000, 10_000));
  await slowA.closed;
  t.notOk(slowB.isClosed() || slowC.isClosed() || slowD.isClosed(), 'only the oldest unfinished message was closed');
  t.equal(await server.metricTotal('edgedns_dns_tcp_closed_total', { reason: 'evicted-busy' }), 1);
});

t.test('a connection just opened is not pushed out before its query arrives', async (t) => {
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'tcp-max-connections': '3', 'tcp-message-timeout': '10', 'tcp-idle-timeout': '10' } });
  const open: OpenConnection[] = [];
  t.teardown(async () => {
    for (const c of open) c.socket.destroy();
    await server.close();
  });
  const slowA = await trickle(server.dnsPort, '127.0.1.12', query, 1000, 10_000);
  const slowB = await trickle(server.dnsPort, '127.0.1.13', query, 1000, 10_000);
  const opening = await connectFrom(server.dnsPort, '127.0.0.1'); // its query is "on its way"
  open.push(slowA, slowB, opening);
  await sleep(100);
  open.push(await trickle(server.dnsPort, '127.0.1.14', query, 1000, 10_000));
  await slowA.closed;
  t.notOk(opening.isClosed(), 'the slow client went, not the one that just opened');
  const reply = new Promise<Buffer>((resolve) => opening.socket.once('data', resolve));
  opening.socket.write(Buffer.concat([Buffer.from([0, query.length]), query]));
  t.equal(parseHeader((await reply).subarray(2)).id, 99, 'which is then answered');
});

t.test('64 slow clients on a 32-connection server: a new client is answered within 1 s', async (t) => {
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'tcp-max-connections': '32', 'tcp-max-per-address': '8' } });
  const slow: OpenConnection[] = [];
  t.teardown(async () => {
    for (const c of slow) c.socket.destroy();
    await server.close();
  });
  // one octet every 4 s from eight addresses, eight each: the first 32 fill the server, the rest push them out
  const attempts = [];
  for (let i = 0; i < 64; i++) attempts.push(trickle(server.dnsPort, `127.0.1.${20 + (i % 8)}`, query, 4000, 15_000).then((c) => slow.push(c), () => undefined));
  await Promise.all(attempts);
  await sleep(200);
  t.equal(await server.metricTotal('edgedns_dns_tcp_connections'), 32, 'the server holds 32 connections, its cap');
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { reply, ms } = await askFrom(server.dnsPort, '127.0.0.1', query, 1000);
    t.equal(parseHeader(reply).rcode, Rcode.NOERROR);
    latencies.push(ms);
  }
  t.comment(`answers to a new client while 64 slow clients attack: ${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  t.ok(Math.max(...latencies) < 1000, 'every answer within 1 s');
});
