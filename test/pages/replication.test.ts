// Two nodes: a deploy on A (CouchDB store, here pouchdb-server) is served by B (embedded store pulling from it with
// --replicate-from): manifests, the site pointer and the blobs as attachments all replicate.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { resolveConfig } from '../../src/node/config.js';
import { startNode } from '../../src/node/node.js';
import { startCouchNode, within } from '../helpers/couch-node.js';
import { freePort } from '../helpers/ports.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { apiTarget, deployTree, get } from './pages-helpers.js';

const db = await startPouchServer({ inMemory: true });
t.teardown(() => db.destroy());
const a = await startCouchNode({ couchdb: db.url, prefix: 'edgedns_', nodeId: 'pages-a' });
t.teardown(() => a.destroy());

const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-pages-b-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const config = resolveConfig({ dns: `127.0.0.1:${await freePort()}`, api: '127.0.0.1:0', http: '127.0.0.1:0', https: '127.0.0.1:0', data: dir, 'node-id': 'pages-b', 'replicate-from': db.url }, {});
const b = await startNode(config, pino({ level: process.env.EDGEDNS_TEST_LOG ?? 'silent' }));
t.teardown(() => b.close());

const SITE = 'replicated.example.test';

t.test('a deploy on A is served by B, byte for byte', async (t) => {
  const key = (await readFile(path.join(a.dataDir, 'admin.key'), 'utf8')).trim();
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff));
  const { result } = await deployTree(apiTarget(a.apiPort, key), SITE, { 'index.html': '<h1>from A</h1>', 'logo.png': binary });
  t.equal(result.status, 201, JSON.stringify(result.body));
  t.equal((await get(a.node.pages.port, SITE, '/')).body.toString(), '<h1>from A</h1>', 'A serves it');

  const took = await within(10_000, async () => (await get(b.pages.port, SITE, '/')).status === 200);
  t.ok(took >= 0, `B served it after ${took} ms`);
  t.equal((await get(b.pages.port, SITE, '/')).body.toString(), '<h1>from A</h1>');
  const logo = await within(10_000, async () => (await get(b.pages.port, SITE, '/logo.png')).status === 200);
  t.ok(logo >= 0, 'the binary blob arrived');
  const png = await get(b.pages.port, SITE, '/logo.png');
  t.ok(png.body.equals(binary), 'same bytes');
  t.equal(png.headers['content-type'], 'image/png');
  t.equal(png.headers['x-edgedns-deployment'], result.body.id, 'the same deployment id on both nodes');
});
