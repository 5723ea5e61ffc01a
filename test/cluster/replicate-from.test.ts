// The embedded edge replica: a node on the embedded store, started with --replicate-from, serves what the CouchDB
// cluster holds and follows its writes, without running CouchDB itself.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { resolveConfig } from '../../src/node/config.js';
import { startNode } from '../../src/node/node.js';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { startCouchNode, within } from '../helpers/couch-node.js';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';

const MAIL = rrsetDocId('example.com.', 'mail.example.com.', 'A');

const db = await startPouchServer({ inMemory: true });
t.teardown(() => db.destroy());
// A CouchDB node holding the zone: the cluster the edge pulls from.
const origin = await startCouchNode({ couchdb: db.url, prefix: 'edgedns_', zoneFiles: [path.resolve('zones/example.com.zone')] });
t.teardown(() => origin.destroy());

const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-replica-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const dnsPort = await freePort();
const config = resolveConfig({ dns: `127.0.0.1:${dnsPort}`, api: '127.0.0.1:0', http: '127.0.0.1:0', https: '127.0.0.1:0', data: dir, 'node-id': 'edge-replica', 'replicate-from': db.url }, {});
const edge = await startNode(config, pino({ level: process.env.EDGEDNS_TEST_LOG ?? 'silent' }));
t.teardown(() => edge.close());

const mail = async (): Promise<string> => (await dig(dnsPort, 'mail.example.com.', 'A', { timeoutSeconds: 1 })).answer[0]?.data ?? 'none';

t.test('the edge serves the zone it pulled from the cluster', async (t) => {
  t.ok((await within(10_000, async () => (await mail()) === '192.0.2.25')) >= 0, 'answered');
  t.equal(await edge.store.get('_design/edgedns'), undefined, 'design documents stay on the server');
});

t.test('a write on the cluster reaches the edge', async (t) => {
  const doc = await origin.node.store.get(MAIL);
  await origin.node.store.put({ ...doc!, records: ['203.0.113.99'] });
  const took = await within(5000, async () => (await mail()) === '203.0.113.99');
  t.ok(took >= 0, `answered after ${took} ms`);
  t.match(await edge.registry.metrics(), /edgedns_replica_docs_pulled_total [1-9]/);
});

t.test('--replicate-from is refused with --couchdb', async (t) => {
  t.throws(() => resolveConfig({ couchdb: db.url, 'replicate-from': db.url }, {}), /embedded store/);
});
