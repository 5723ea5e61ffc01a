// The embedded edge replica: a node on the embedded store, started with --replicate-from, serves what the CouchDB
// cluster holds and follows its writes, without running CouchDB itself.

import path from 'node:path';
import t from 'tap';
import { resolveConfig } from '../../src/node/config.js';
import { rrsetDocId } from '../../src/zone/zone-docs.js';
import { firstAnswer } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';

const MAIL = rrsetDocId('example.com.', 'mail.example.com.', 'A');

const db = await startPouchServer({ inMemory: true });
t.teardown(() => db.destroy());
// A CouchDB node holding the zone: the cluster the edge pulls from.
const origin = await startTestNode({ zoneFiles: [path.resolve('zones/example.com.zone')], flags: { couchdb: db.url, 'db-prefix': 'edgedns_' } });
t.teardown(() => origin.close());
const edge = await startTestNode({ nodeId: 'edge-replica', flags: { 'replicate-from': db.url } });
t.teardown(() => edge.close());

const mail = (): Promise<string> => firstAnswer(edge.dnsPort, 'mail.example.com.');

t.test('the edge serves the zone it pulled from the cluster', async (t) => {
  t.ok((await waitFor(async () => (await mail()) === '192.0.2.25', { what: 'the edge to answer the pulled zone', timeoutMs: 10_000 })).value, 'answered');
  t.equal(await edge.node.store.get('_design/edgedns'), undefined, 'design documents stay on the server');
});

t.test('a write on the cluster reaches the edge', async (t) => {
  const doc = await origin.node.store.get(MAIL);
  await origin.node.store.put({ ...doc!, records: ['203.0.113.99'] });
  const answered = await waitFor(async () => (await mail()) === '203.0.113.99', { what: 'the edge to answer the write made on the cluster', timeoutMs: 5000 });
  t.ok(answered.value, `answered after ${answered.ms} ms`);
  t.match(await edge.node.registry.metrics(), /edgedns_replica_docs_pulled_total [1-9]/);
});

t.test('--replicate-from is refused with --couchdb', async (t) => {
  t.throws(() => resolveConfig({ couchdb: db.url, 'replicate-from': db.url }, {}), /embedded store/);
});
