// The index follows the store: a document written by anyone (the API, an import, replication from another node)
// reaches the answers within a second without a restart, and a write that would break a zone keeps the old one.

import t from 'tap';
import net from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Rcode, Type } from '../../src/proto/constants.js';
import { CouchStore } from '../../src/store/couch-store.js';
import { Catalog } from '../../src/zone/catalog.js';
import { ZoneSync } from '../../src/zone/zone-sync.js';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { decodeMessage } from '../helpers/decode.js';
import { udpExchange } from '../helpers/dns-socket.js';
import { startTestNode } from '../helpers/node.js';
import { waitFor } from '../helpers/wait-for.js';
import { buildQuery } from '../helpers/wire.js';

const server = await startTestNode({ zoneFiles: [path.resolve('zones/example.com.zone')], flags: { 'tcp-idle-timeout': '0.5' } });
t.teardown(() => server.close());
const { store } = server.node;

async function mailAddress(): Promise<string | undefined> {
  const msg = decodeMessage(await udpExchange(server.dnsPort, buildQuery('mail.example.com.', Type.A)));
  const rdata = msg.answer[0]?.rdata;
  return rdata ? [...rdata].join('.') : undefined;
}

t.test('a document written straight to the store is answered within 1 s', async (t) => {
  t.equal(await mailAddress(), '192.0.2.25');
  const id = rrsetDocId('example.com.', 'mail.example.com.', 'A');
  const doc = await store.get(id);
  t.ok(doc, 'the RRset document exists');
  await store.put({ ...doc!, records: ['203.0.113.7'] });
  const answered = await waitFor(async () => (await mailAddress()) === '203.0.113.7', { what: 'the new address in the answer', timeoutMs: 1000, intervalMs: 20 });
  t.ok(answered.value, `new address answered after ${answered.ms} ms`);
});

t.test('a new RRset appears and a deleted one disappears', async (t) => {
  const id = rrsetDocId('example.com.', 'fresh.example.com.', 'TXT');
  const { rev } = await store.put({ _id: id, type: 'rrset', zone: 'example.com.', name: 'fresh.example.com.', rrtype: 'TXT', ttl: 60, records: ['"hello"'] });
  const rcode = async () => decodeMessage(await udpExchange(server.dnsPort, buildQuery('fresh.example.com.', Type.TXT))).header.rcode;
  t.ok((await waitFor(async () => (await rcode()) === Rcode.NOERROR, { what: 'the new RRset answered', timeoutMs: 1000, intervalMs: 20 })).value, 'answered');
  await store.remove(id, rev);
  t.ok((await waitFor(async () => (await rcode()) === Rcode.NXDOMAIN, { what: 'the deleted RRset gone', timeoutMs: 1000, intervalMs: 20 })).value, 'gone');
});

t.test('a change that breaks the zone keeps the previous index', async (t) => {
  const soaId = rrsetDocId('example.com.', 'example.com.', 'SOA');
  const soa = await store.get(soaId);
  await store.remove(soaId, soa!._rev!);
  const failed = await waitFor(async () => /edgedns_zone_builds_total\{result="failed"\} [1-9]/.test(await server.node.registry.metrics()), { what: 'a failed zone build in the metrics', timeoutMs: 1000, intervalMs: 20 });
  t.ok(failed.value, 'the failed build is counted');
  const msg = decodeMessage(await udpExchange(server.dnsPort, buildQuery('example.com.', Type.SOA)));
  t.equal(msg.header.rcode, Rcode.NOERROR, 'still answering');
  t.equal(msg.answer.length, 1, 'with the SOA of the last good index');
});

t.test('an idle TCP connection is closed after the idle timeout', async (t) => {
  const started = Date.now();
  const closedAfter = await new Promise<number>((resolve) => {
    const socket = net.connect(server.dnsPort, '127.0.0.1');
    socket.on('close', () => resolve(Date.now() - started));
    socket.on('error', () => undefined);
    setTimeout(() => {
      socket.destroy();
      resolve(-1);
    }, 5000);
  });
  t.ok(closedAfter > 0, `closed by the server after ${closedAfter} ms (timeout 0.5 s)`);
});

t.test('stopped while its first read hangs, ZoneSync.start() returns', async (t) => {
  // A "database" that accepts connections and never answers.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const address = silent.address() as net.AddressInfo;
  const store = new CouchStore({ url: `http://127.0.0.1:${address.port}/`, prefix: 'edgedns_', longpollMs: 1000 });
  t.teardown(() => store.close());
  const registry = new Registry();
  const sync = new ZoneSync({ store, catalog: new Catalog(), logger: pino({ level: 'silent' }), registry });
  let returned = false;
  const starting = sync.start().then(() => (returned = true));
  await waitFor(() => sockets.size > 0, { what: 'the first read under way', timeoutMs: 5000 });
  t.notOk(returned, 'start() waits for its first read');
  await sync.stop();
  await waitFor(() => returned, { what: 'start() to return after stop()', timeoutMs: 1000 });
  await starting;
});
