// A node on CouchDB follows writes within a second, keeps answering while its database is down and says how stale
// it is, starts from its snapshot while the database is still down, and catches up when the database returns.

import path from 'node:path';
import t from 'tap';
import { CouchStore } from '../../src/store/couch-store.js';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { startCouchNode, within } from '../helpers/couch-node.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';

const ZONE = path.resolve('zones/example.com.zone');
const MAIL = rrsetDocId('example.com.', 'mail.example.com.', 'A');

const db = await startPouchServer();
t.teardown(() => db.destroy());
const prefix = 'edgedns_outage_';
const node = await startCouchNode({ couchdb: db.url, prefix, zoneFiles: [ZONE] });
t.teardown(() => node.destroy());
// Another writer on the same database: what replication from another node looks like to this one.
const writer = new CouchStore({ url: db.url, prefix });
t.teardown(() => writer.close());

async function setMail(address: string): Promise<void> {
  const doc = await writer.get(MAIL);
  if (!doc) throw new Error(`${MAIL} is missing`);
  await writer.put({ ...doc, records: [address] });
}

t.test('the zone seeded into CouchDB is served and health says ok', async (t) => {
  t.equal(await node.ask('mail.example.com.'), '192.0.2.25');
  t.equal(await node.health(), 'ok');
  t.match(await node.healthz(), { status: 'ok', data: { connected: true, ageSeconds: 0 } });
  t.equal(await node.metric('edgedns_store_last_sync_age_seconds'), 0);
});

t.test('a write to the database reaches the answers within 1 s', async (t) => {
  await setMail('203.0.113.1');
  const took = await within(1000, async () => (await node.ask('mail.example.com.')) === '203.0.113.1');
  t.ok(took >= 0, `answered after ${took} ms`);
});

t.test('with the database down the node keeps answering and reports stale data', async (t) => {
  await db.stop();
  t.equal(await node.ask('mail.example.com.'), '203.0.113.1', 'answers from memory');
  const stale = await within(5000, async () => /^stale \d+ store-unreachable$/.test(await node.health()));
  t.ok(stale >= 0, 'CHAOS TXT health.edgedns. says stale, and why');
  t.ok((await within(3000, async () => ((await node.metric('edgedns_store_last_sync_age_seconds')) ?? 0) >= 1)) >= 0, 'the age metric grows');
  t.match(await node.healthz(), { status: 'degraded', data: { connected: false } });
  t.ok(((await node.healthz()).data?.ageSeconds ?? 0) >= 1, '/healthz gives the age of the data');
});

t.test('restarted while the database is down, the node answers from its snapshot', async (t) => {
  await node.restart();
  t.equal(await node.ask('mail.example.com.'), '203.0.113.1');
  t.match(await node.health(), /^stale \d+ local-state$/);
  t.match(await node.healthz(), { status: 'degraded', data: { source: 'snapshot' } });
});

t.test('when the database returns the node catches up without a restart', async (t) => {
  await db.start();
  await setMail('203.0.113.2');
  const took = await within(10_000, async () => (await node.ask('mail.example.com.')) === '203.0.113.2');
  t.ok(took >= 0, `caught up after ${took} ms`);
  t.ok((await within(2000, async () => (await node.health()) === 'ok')) >= 0, 'health is ok again');
  t.equal(await node.metric('edgedns_store_syncs_total{mode="checkpoint"}'), 1, 'from the checkpoint');
  t.equal(await node.metric('edgedns_store_syncs_total{mode="full"}'), undefined, 'not a full reload');
});

t.test('after a restart the node catches up from its checkpoint, not a full read', async (t) => {
  await node.stop();
  await setMail('203.0.113.3');
  await node.restart();
  t.equal(await node.ask('mail.example.com.'), '203.0.113.3', 'the write made while it was down');
  t.equal(await node.metric('edgedns_store_syncs_total{mode="checkpoint"}'), 1);
  t.equal(await node.metric('edgedns_store_syncs_total{mode="full"}'), undefined);
  t.equal(await node.health(), 'ok');
});
