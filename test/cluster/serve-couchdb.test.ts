// The operator's view: `EDGEDNS_COUCHDB=URL edgedns serve` against a running CouchDB-protocol server serves the same
// zones as the embedded store, and the cluster commands fail with a clear message when CouchDB cannot be reached.

import path from 'node:path';
import t from 'tap';
import { ConfigError } from '../../src/node/config.js';
import { runCommand } from '../helpers/cli.js';
import { dig, digSections } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';
import { freePort } from '../helpers/ports.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { runCli, spawnEdgedns } from '../helpers/spawn-edgedns.js';

const ZONES = path.resolve('zones');
const QUESTIONS: [string, string][] = [
  ['example.com.', 'SOA'],
  ['example.com.', 'NS'],
  ['example.com.', 'MX'],
  ['www.example.com.', 'A'],
  ['mail.example.com.', 'A'],
  ['nowhere.example.com.', 'A'],
  ['example.com.', 'TXT'],
];

const db = await startPouchServer({ inMemory: true });
t.teardown(() => db.destroy());

t.test('EDGEDNS_COUCHDB=URL edgedns serve answers exactly as the embedded store does', async (t) => {
  // The reference: a node on the embedded store (in-process); the node under test is the real command.
  const embedded = await startTestNode({ zonesDir: ZONES, nodeId: 'embedded' });
  t.teardown(() => embedded.close());
  // spawn passes this process's environment on, as a shell would.
  process.env.EDGEDNS_COUCHDB = db.url;
  const couch = await spawnEdgedns({ zonesDir: ZONES, nodeId: 'couch' }).finally(() => delete process.env.EDGEDNS_COUCHDB);
  t.teardown(() => couch.stop());
  t.match(couch.logs(), /couchdb:http:\/\/127\.0\.0\.1/, 'the node says which store it uses');
  for (const [name, type] of QUESTIONS) {
    const a = await dig(embedded.dnsPort, name, type);
    const b = await dig(couch.dnsPort, name, type);
    t.equal(b.rcode, a.rcode, `${name} ${type} rcode`);
    t.same(digSections(b), digSections(a), `${name} ${type} sections`);
  }
});

t.test('cluster status with CouchDB unreachable fails with a clear message', async (t) => {
  const port = await freePort();
  const result = await runCli(['cluster', 'status', '--couchdb', `http://127.0.0.1:${port}`]);
  t.equal(result.code, 1);
  t.match(result.stderr, /CouchDB unreachable/);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
});

t.test('cluster commands without a CouchDB say how to give one', async (t) => {
  const result = await runCommand(['cluster', 'status'], { EDGEDNS_COUCHDB: '' });
  t.type(result.error, ConfigError);
  t.match(result.error?.message, /--couchdb URL or EDGEDNS_COUCHDB/);
});
