// Two nodes: a deploy on A (CouchDB store, here pouchdb-server) is served by B (embedded store pulling from it with
// --replicate-from): manifests, the site pointer and the blobs as attachments all replicate.

import t from 'tap';
import { startTestNode } from '../helpers/node.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { deployTree, get } from './pages-helpers.js';

const db = await startPouchServer({ inMemory: true });
t.teardown(() => db.destroy());
const a = await startTestNode({ nodeId: 'pages-a', flags: { couchdb: db.url, 'db-prefix': 'edgedns_' } });
t.teardown(() => a.close());
const b = await startTestNode({ nodeId: 'pages-b', flags: { 'replicate-from': db.url } });
t.teardown(() => b.close());

const SITE = 'replicated.example.test';

t.test('a deploy on A is served by B, byte for byte', async (t) => {
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff));
  const { result } = await deployTree(a, SITE, { 'index.html': '<h1>from A</h1>', 'logo.png': binary });
  t.equal(result.status, 201, JSON.stringify(result.body));
  t.equal((await get(a.httpPort, SITE, '/')).body.toString(), '<h1>from A</h1>', 'A serves it');

  const page = await waitFor(async () => (await get(b.httpPort, SITE, '/')).status === 200, { what: 'B to serve the site deployed on A', timeoutMs: 10_000 });
  t.ok(page.value, `B served it after ${page.ms} ms`);
  t.equal((await get(b.httpPort, SITE, '/')).body.toString(), '<h1>from A</h1>');
  const logo = await waitFor(async () => (await get(b.httpPort, SITE, '/logo.png')).status === 200, { what: 'the binary blob to reach B', timeoutMs: 10_000 });
  t.ok(logo.value, 'the binary blob arrived');
  const png = await get(b.httpPort, SITE, '/logo.png');
  t.ok(png.body.equals(binary), 'same bytes');
  t.equal(png.headers['content-type'], 'image/png');
  t.equal(png.headers['x-edgedns-deployment'], result.body.id, 'the same deployment id on both nodes');
});
