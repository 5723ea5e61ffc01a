// A node on CouchDB follows writes within a second, keeps answering while its database is down and says how stale
// it is, starts from its snapshot while the database is still down, and catches up when the database returns.

import path from 'node:path';
import t from 'tap';
import { CouchStore } from '../../src/store/couch-store.js';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { firstAnswer } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';

const ZONE = path.resolve('zones/example.com.zone');
const MAIL = rrsetDocId('example.com.', 'mail.example.com.', 'A');

const db = await startPouchServer();
t.teardown(() => db.destroy());
const prefix = 'edgedns_outage_';
const node = await startTestNode({ zoneFiles: [ZONE], flags: { couchdb: db.url, 'db-prefix': prefix } });
t.teardown(() => node.close());
// Another writer on the same database: what replication from another node looks like to this one.
const writer = new CouchStore({ url: db.url, prefix });
t.teardown(() => writer.close());

const ask = (name: string): Promise<string> => firstAnswer(node.dnsPort, name);
/** The CHAOS TXT health.edgedns. text: "ok" or "stale SECONDS". */
const health = async (): Promise<string> => (await firstAnswer(node.dnsPort, 'health.edgedns.', 'TXT', { qclass: 'CH' })).replace(/^"|"$/g, '');
const healthz = async (): Promise<{ status: string; data?: { ageSeconds: number; connected: boolean; source: string } }> => (await node.api('GET', '/healthz', { key: null })).body;

async function setMail(address: string): Promise<void> {
  const doc = await writer.get(MAIL);
  if (!doc) throw new Error(`${MAIL} is missing`);
  await writer.put({ ...doc, records: [address] });
}

t.test('the zone seeded into CouchDB is served and health says ok', async (t) => {
  t.equal(await ask('mail.example.com.'), '192.0.2.25');
  t.equal(await health(), 'ok');
  t.match(await healthz(), { status: 'ok', data: { connected: true, ageSeconds: 0 } });
  t.equal(await node.metric('edgedns_store_last_sync_age_seconds'), 0);
});

t.test('a write to the database reaches the answers within 1 s', async (t) => {
  await setMail('203.0.113.1');
  const answered = await waitFor(async () => (await ask('mail.example.com.')) === '203.0.113.1', { what: 'the write in the answer', timeoutMs: 1000 });
  t.ok(answered.value, `answered after ${answered.ms} ms`);
});

t.test('with the database down the node keeps answering and reports stale data', async (t) => {
  await db.stop();
  t.equal(await ask('mail.example.com.'), '203.0.113.1', 'answers from memory');
  const stale = await waitFor(async () => /^stale \d+$/.test(await health()), { what: 'CHAOS TXT health.edgedns. to say stale', timeoutMs: 5000 });
  t.ok(stale.value, 'CHAOS TXT health.edgedns. says stale');
  const aged = await waitFor(async () => ((await node.metric('edgedns_store_last_sync_age_seconds')) ?? 0) >= 1, { what: 'the data age metric to reach 1 s', timeoutMs: 3000 });
  t.ok(aged.value, 'the age metric grows');
  t.match(await healthz(), { status: 'degraded', data: { connected: false } });
  t.ok(((await healthz()).data?.ageSeconds ?? 0) >= 1, '/healthz gives the age of the data');
});

t.test('restarted while the database is down, the node answers from its snapshot', async (t) => {
  await node.restart();
  t.equal(await ask('mail.example.com.'), '203.0.113.1');
  t.match(await health(), /^stale \d+$/);
  t.match(await healthz(), { status: 'degraded', data: { source: 'snapshot' } });
});

t.test('when the database returns the node catches up without a restart', async (t) => {
  await db.start();
  await setMail('203.0.113.2');
  const caughtUp = await waitFor(async () => (await ask('mail.example.com.')) === '203.0.113.2', { what: 'the write made after the database returned', timeoutMs: 10_000 });
  t.ok(caughtUp.value, `caught up after ${caughtUp.ms} ms`);
  t.ok((await waitFor(async () => (await health()) === 'ok', { what: 'health to say ok again', timeoutMs: 2000 })).value, 'health is ok again');
  t.equal(await node.metric('edgedns_store_syncs_total{mode="checkpoint"}'), 1, 'from the checkpoint');
  t.equal(await node.metric('edgedns_store_syncs_total{mode="full"}'), undefined, 'not a full reload');
});

t.test('after a restart the node catches up from its checkpoint, not a full read', async (t) => {
  await node.stop();
  await setMail('203.0.113.3');
  await node.restart();
  t.equal(await ask('mail.example.com.'), '203.0.113.3', 'the write made while it was down');
  t.equal(await node.metric('edgedns_store_syncs_total{mode="checkpoint"}'), 1);
  t.equal(await node.metric('edgedns_store_syncs_total{mode="full"}'), undefined);
  t.equal(await health(), 'ok');
});
