// The UPDATE path beside the query path, in-process over a real embedded store and a real UDP socket: while an
// update waits on the store, queries on the same socket are answered; an applied update writes one audit line
// in the API's shape; and updates beyond the in-progress limit are refused at once instead of queueing.

import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createHandler } from '../../src/dns/handler.js';
import { DnsMetrics } from '../../src/dns/metrics.js';
import { listenUdp } from '../../src/dns/udp-server.js';
import { withUpdates } from '../../src/dns/update-dispatch.js';
import { createUpdater } from '../../src/dns/updater.js';
import { createTsigKey } from '../../src/keys/tsig-keys.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import type { Store } from '../../src/store/store.js';
import { StoreHealth } from '../../src/store/store-health.js';
import { Catalog } from '../../src/zone/catalog.js';
import { ZoneSync } from '../../src/zone/zone-sync.js';
import { saveZone } from '../../src/zone/zone-writer.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { udpExchange } from '../helpers/dns-socket.js';
import { buildQuery, parseHeader } from '../helpers/wire.js';
import { a, buildUpdate, IN, readResponse, sign, T } from './update-wire.js';

t.test('updates wait on the store; queries do not wait on updates', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgedns-updater-'));
  const pouch = await PouchStore.open(path.join(dir, 'db'));
  const registry = new Registry();
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  const catalog = new Catalog();
  const sync = new ZoneSync({ store: pouch, catalog, logger: pino({ level: 'silent' }), registry, health: new StoreHealth(registry) });
  await saveZone(pouch, parseZoneFile(await readFile('test/fixtures/api/example.test.zone', 'utf8')), { replace: false });
  await sync.start();
  const { key, secret } = await createTsigKey(pouch, { scope: 'zone:example.test', name: 'k1.example.test' });

  // The store as the updater sees it: writes wait until the test opens the gate.
  let open: () => void = () => undefined;
  let gate = Promise.resolve();
  const store = new Proxy(pouch, {
    get(target, property) {
      if (property === 'bulk') return async (docs: Parameters<Store['bulk']>[0]) => (await gate, target.bulk(docs));
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as Store;
  const query = createHandler({ catalog, chaos: { nodeId: 'n1' }, metrics: new DnsMetrics(registry), logger: pino({ level: 'silent' }) });
  const update = createUpdater({ store, catalog, logger, registry, maxPending: 2 });
  const udp = await listenUdp('127.0.0.1', 0, withUpdates(query, update), pino({ level: 'silent' }));
  t.teardown(async () => {
    await udp.close();
    await sync.stop();
    await pouch.close();
    await rm(dir, { recursive: true, force: true });
  });

  const signedAdd = (name: string, id: number): Buffer =>
    sign(buildUpdate({ id, zone: 'example.test.', updates: [{ name, type: T.A, class: IN, ttl: 60, rdata: a('192.0.2.55') }] }), { keyName: key.name, algorithm: key.algorithm, secret: Buffer.from(secret, 'base64') }).message;

  gate = new Promise((resolve) => (open = resolve));
  const pendingUpdate = udpExchange(udp.port, signedAdd('slow.example.test.', 1), 5000);
  let updateAnswered = false;
  void pendingUpdate.then(() => (updateAnswered = true));
  await new Promise((r) => setTimeout(r, 100));
  const answer = parseHeader(await udpExchange(udp.port, buildQuery('www.example.test.', T.A)));
  t.equal(answer.rcode, 0, 'a query is answered while the update waits on the store');
  t.equal(answer.ancount, 1);
  t.notOk(updateAnswered, 'the update is still waiting');

  const second = udpExchange(udp.port, signedAdd('second.example.test.', 2), 5000);
  await new Promise((r) => setTimeout(r, 100));
  const shed = readResponse(await udpExchange(udp.port, signedAdd('third.example.test.', 3)));
  t.equal(shed.rcode, 5, 'beyond two in progress: REFUSED at once');
  t.match(await registry.getSingleMetricAsString('edgedns_dns_updates_shed_total'), /edgedns_dns_updates_shed_total 1/);

  open();
  t.equal(readResponse(await pendingUpdate).rcode, 0, 'the update is answered once its write is done');
  t.equal(readResponse(await second).rcode, 0);

  const audits = lines.filter((l) => l.audit === true);
  t.equal(audits.length, 2, 'one audit line per applied update');
  t.match(audits[0], { audit: true, key: 'k1.example.test.', keyId: 'tsig/k1.example.test.', scope: 'zone:example.test', client: '127.0.0.1', action: 'zone.update', via: 'rfc2136', zone: 'example.test.', serial: Number, changes: [{ name: 'slow.example.test.', type: 'A', op: 'add', record: '192.0.2.55' }] }, 'who, from where, what: the API audit line');
});
