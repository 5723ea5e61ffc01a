// The deploy protocol: only missing blobs are uploaded, each verified on arrival; a commit names the blobs it lacks
// and the paths it refuses; promotion, previews and rollback move one pointer. The API is asked in-process; an
// upload streamed over a real socket checks the size limit as the bytes arrive, and the site is read over HTTP.

import { request as httpRequest } from 'node:http';
import t from 'tap';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { deployTree, get, putBlob, sha256, type ApiTarget, type Tree } from './pages-helpers.js';

let node: TestNode;
t.before(async () => {
  node = await startTestNode();
});
t.teardown(() => node?.close());

const V1: Tree = { 'index.html': '<h1>v1</h1>', 'app.js': 'v1()', 'same.txt': 'unchanged' };
const V2: Tree = { 'index.html': '<h1>v2</h1>', 'app.js': 'v2()', 'same.txt': 'unchanged', 'new.html': 'new' };

t.test('missing lists only the hashes the store lacks', async (t) => {
  const known = Buffer.from('known blob');
  t.equal((await putBlob(node, sha256(known), known)).status, 201);
  t.equal((await putBlob(node, sha256(known), known)).status, 200, 'a second upload is accepted and stores nothing');
  const unknown = sha256('never uploaded');
  const res = await node.api('POST', '/v1/blobs/missing', { body: { hashes: [sha256(known), unknown] } });
  t.equal(res.status, 200);
  t.same(res.body.missing, [unknown]);
  const bad = await node.api('POST', '/v1/blobs/missing', { body: { hashes: ['xyz'] } });
  t.equal(bad.status, 400);
});

t.test('an upload whose bytes do not match its hash is refused and stores nothing', async (t) => {
  const claimed = sha256('what I claim');
  const res = await putBlob(node, claimed, Buffer.from('what I send'));
  t.equal(res.status, 422);
  t.match(res.body, { error: { code: 'hash_mismatch', field: 'body' } });
  t.same((await node.api('POST', '/v1/blobs/missing', { body: { hashes: [claimed] } })).body.missing, [claimed]);
});

t.test('a file over 25 MiB is refused with 413 from its Content-Length; one without a length is refused with 411', async (t) => {
  const big = Buffer.alloc(25 * 1024 * 1024 + 1, 1);
  const announced = await putBlob(node, sha256(big), big);
  t.equal(announced.status, 413);
  t.match(announced.body, { error: { code: 'payload_too_large' } });
  // Chunked, without Content-Length: the node would have to collect the chunks and copy them again, so it asks for
  // the length instead (one buffer of the announced size is all it ever holds of a file).
  const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: node.apiPort, method: 'PUT', path: `/v1/blobs/${sha256(big)}`, headers: { 'x-api-key': node.adminKey, 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.write(big.subarray(0, 1024 * 1024));
    req.end();
  });
  t.equal(streamed.status, 411);
  t.match(JSON.parse(streamed.body), { error: { code: 'length_required', field: 'content-length' } });
  t.same((await node.api('POST', '/v1/blobs/missing', { body: { hashes: [sha256(big)] } })).body.missing, [sha256(big)], 'nothing stored');
});

t.test('a commit with blobs not uploaded fails with their list and writes nothing', async (t) => {
  const files = { 'index.html': { sha256: sha256('not uploaded 1'), size: 14 }, 'b.html': { sha256: sha256('not uploaded 2'), size: 14 } };
  const res = await node.api('POST', '/v1/sites/missing.example.test/deployments', { body: { files } });
  t.equal(res.status, 409);
  t.match(res.body, { error: { code: 'missing_blobs', field: 'files' } });
  t.same([...res.body.missing].sort(), [sha256('not uploaded 1'), sha256('not uploaded 2')].sort());
  t.equal((await node.api('GET', '/v1/sites/missing.example.test')).status, 404, 'no site was created');
});

t.test('malicious and oversized paths are refused at deploy, naming the path', async (t) => {
  const blob = Buffer.from('x');
  await putBlob(node, sha256(blob), blob);
  const ok = { sha256: sha256(blob), size: 1 };
  const cases: [string, RegExp][] = [
    ['../etc/passwd', /"\.\." segment/],
    ['a/../../b', /"\.\." segment/],
    ['a\\b.html', /backslash/],
    ['a\u0000b', /NUL/],
    ['a//b', /empty segment/],
    ['./a', /"\." segment/],
    ['x'.repeat(1100), /longer than 1024/],
    ['dir/', /empty segment/],
  ];
  for (const [path, reason] of cases) {
    const res = await node.api('POST', '/v1/sites/evil.example.test/deployments', { body: { files: { 'index.html': ok, [path]: ok } } });
    t.equal(res.status, 400, JSON.stringify(path).slice(0, 40));
    t.match(res.body.error, { code: 'invalid_path', message: reason });
    t.ok(res.body.error.message.includes(JSON.stringify(path).slice(1, 30)), 'the message names the path');
  }
  const huge = await node.api('POST', '/v1/sites/evil.example.test/deployments', { body: { files: { 'big.bin': { sha256: sha256('y'), size: 26 * 1024 * 1024 } } } });
  t.equal(huge.status, 400);
  t.match(huge.body.error, { code: 'invalid_path', message: /big\.bin.*over the limit/, field: 'files.big.bin' });
  t.equal((await node.api('GET', '/v1/sites/evil.example.test')).status, 404, 'nothing written');
});

t.test('a second deploy of the same tree uploads nothing', async (t) => {
  const first = await deployTree(node, 'same.example.test', V1);
  t.equal(first.uploaded, 3);
  const second = await deployTree(node, 'same.example.test', V1);
  t.equal(second.uploaded, 0);
  t.not(second.result.body.id, first.result.body.id, 'but it is a new deployment');
});

t.test('deploy, promote v2, roll back: v1 is restored exactly', async (t) => {
  const site = 'roll.example.test';
  const v1 = await deployTree(node, site, V1, { message: 'v1' });
  t.equal(v1.result.status, 201);
  t.match(v1.result.body, { production: true, served: true, site, message: 'v1' });
  const snapshot = async () => {
    const out: Record<string, string> = {};
    for (const p of ['/', '/app.js', '/same.txt', '/new']) {
      const res = await get(node.httpPort, site, p);
      out[p] = `${res.status} ${res.headers.etag ?? ''} ${res.body.toString()}`;
    }
    return out;
  };
  const before = await snapshot();
  t.match(before['/'], /^200 .*v1/);

  const v2 = await deployTree(node, site, V2, { message: 'v2' });
  t.match((await snapshot())['/'], /^200 .*v2/, 'v2 served once the deploy returns');
  t.equal((await get(node.httpPort, site, '/new')).status, 200);

  const rolled = await node.api('POST', `/v1/sites/${site}/rollback`, { body: {} });
  t.equal(rolled.status, 200);
  t.match(rolled.body, { production: v1.result.body.id, previous: v2.result.body.id, served: true });
  t.same(await snapshot(), before, 'every file, status and ETag as before');

  const forward = await node.api('POST', `/v1/sites/${site}/rollback`, { body: { deployment: v2.result.body.id } });
  t.match(forward.body, { production: v2.result.body.id });
  const list = await node.api('GET', `/v1/sites/${site}/deployments`);
  t.same(list.body.deployments.map((d: { id: string }) => d.id), [v2.result.body.id, v1.result.body.id], 'newest first');
  t.equal(list.body.deployments[0].production, true);
  t.equal((await node.api('POST', `/v1/sites/${site}/rollback`, { body: { deployment: 'nosuchdeploy' } })).status, 404);
});

t.test('a preview deployment is reachable at its own host with noindex, production unchanged', async (t) => {
  const site = 'prev.example.test';
  const live = await deployTree(node, site, V1);
  const preview = await deployTree(node, site, V2, { preview: true });
  t.equal(preview.result.status, 201);
  t.match(preview.result.body, { production: false });
  t.match(preview.result.body.previewUrl, new RegExp(`^http://${preview.result.body.id}\\.preview\\.localhost:${node.httpPort}/$`));
  const prod = await get(node.httpPort, site, '/');
  t.equal(prod.body.toString(), V1['index.html'], 'production still v1');
  t.equal(prod.headers['x-robots-tag'], undefined);
  const seen = await get(node.httpPort, `${preview.result.body.id}.preview.localhost`, '/');
  t.equal(seen.body.toString(), V2['index.html']);
  t.equal(seen.headers['x-robots-tag'], 'noindex');
  const old = await get(node.httpPort, `${live.result.body.id}.preview.localhost`, '/app.js');
  t.equal(old.body.toString(), V1['app.js'], 'every deployment keeps its preview');
  t.equal((await get(node.httpPort, 'nosuchid.preview.localhost', '/')).status, 404);

  const promoted = await node.api('POST', `/v1/sites/${site}/promote`, { body: { deployment: preview.result.body.id } });
  t.match(promoted.body, { production: preview.result.body.id, served: true });
  t.equal((await get(node.httpPort, site, '/')).body.toString(), V2['index.html']);

  t.equal((await node.api('PUT', `/v1/sites/${site}`, { body: { previews: false } })).status, 200);
  t.equal((await get(node.httpPort, `${preview.result.body.id}.preview.localhost`, '/')).status, 404, 'previews can be turned off per site');
});

t.test('during a promotion a reader never gets a mixed page for one deployment id', async (t) => {
  const site = 'atomic.example.test';
  const version = (n: number): Tree => ({ 'index.html': `<html>v${n}</html>`, 'app.js': `app v${n}`, 'style.css': `css v${n}` });
  const ids: Record<string, number> = {};
  ids[(await deployTree(node, site, version(1))).result.body.id] = 1;
  const v2 = await deployTree(node, site, version(2), { preview: true });
  ids[v2.result.body.id] = 2;

  let stop = false;
  const problems: string[] = [];
  const seen = new Set<number>();
  const reader = (async () => {
    for (let round = 0; round < 2000 && !stop; round++) {
      const index = await get(node.httpPort, site, '/');
      const id = String(index.headers['x-edgedns-deployment']);
      const n = ids[id];
      if (index.body.toString() !== `<html>v${n}</html>`) problems.push(`index of ${id} was ${index.body}`);
      seen.add(n);
      // The rest of the page load, pinned to the deployment the index came from (its preview host).
      for (const [p, body] of [['/app.js', `app v${n}`], ['/style.css', `css v${n}`]]) {
        const asset = await get(node.httpPort, `${id}.preview.localhost`, p);
        if (asset.body.toString() !== body) problems.push(`${p} of ${id} was ${asset.body}`);
      }
      // Unpinned requests still carry the id of the deployment that produced them, and match it.
      const loose = await get(node.httpPort, site, '/app.js');
      if (loose.body.toString() !== `app v${ids[String(loose.headers['x-edgedns-deployment'])]}`) problems.push(`unpinned app.js mismatched its id`);
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  const promoted = await node.api('POST', `/v1/sites/${site}/promote`, { body: { deployment: v2.result.body.id } });
  t.equal(promoted.status, 200);
  await new Promise((r) => setTimeout(r, 200));
  stop = true;
  await reader;
  t.same(problems, [], 'every response matched its deployment');
  t.same([...seen].sort(), [1, 2], 'the reader saw both versions');
  t.equal((await get(node.httpPort, site, '/')).body.toString(), '<html>v2</html>', 'and ends on v2');
});

t.test('deploy routes need a key, and a zone-scoped key may not deploy', async (t) => {
  const anonymous = await node.api('GET', '/v1/sites', { key: null });
  t.equal(anonymous.status, 401);
  const created = await node.api('POST', '/v1/keys', { body: { scope: 'zone:example.com', name: 'zone only' } });
  t.equal(created.status, 201);
  const res = await node.api('POST', '/v1/sites/x.example.test/deployments', { key: created.body.secret, body: { files: { a: { sha256: sha256('a'), size: 1 } } } });
  t.equal(res.status, 403);
});

t.test('gc keeps the newest N and the production deployment, and frees unreferenced blobs', async (t) => {
  const site = 'gc.example.test';
  const deployed: string[] = [];
  for (let i = 1; i <= 4; i++) deployed.push((await deployTree(node, site, { 'index.html': `gc v${i}`, 'shared.txt': 'shared' })).result.body.id);
  // Production back on the oldest: it must survive although it is not among the newest. Pointers: production 1,
  // previous 4.
  await node.api('POST', `/v1/sites/${site}/rollback`, { body: { deployment: deployed[0] } });
  const report = await node.api('POST', '/v1/pages/gc', { body: { keep: 2, graceSeconds: 0 } });
  t.equal(report.status, 200);
  t.same(report.body.deploymentsRemoved, [deployed[1]], 'kept: 4 and 3 (newest), 1 (production); removed: 2');
  // Blobs other tests in this file left unreferenced go too: gc is for the whole store.
  t.ok(report.body.blobsRemoved >= 1 && report.body.bytesFreed >= 'gc v2'.length, 'frees at least the blob only deploy 2 used');
  t.same((await node.api('POST', '/v1/blobs/missing', { body: { hashes: [sha256('gc v2'), sha256('gc v3')] } })).body.missing, [sha256('gc v2')]);
  // Pointers: production 4, previous 1.
  await node.api('POST', `/v1/sites/${site}/rollback`, { body: { deployment: deployed[3] } });
  const second = await node.api('POST', '/v1/pages/gc', { body: { keep: 1, graceSeconds: 0 } });
  t.same(second.body.deploymentsRemoved, [deployed[2]], 'kept: 4 (newest, production), 1 (previous)');
  const missing = await node.api('POST', '/v1/blobs/missing', { body: { hashes: [sha256('gc v1'), sha256('gc v2'), sha256('gc v3'), sha256('gc v4'), sha256('shared')] } });
  t.same(missing.body.missing, [sha256('gc v2'), sha256('gc v3')]);
  const listed = await node.api('GET', `/v1/sites/${site}/deployments`);
  t.same(listed.body.deployments.map((d: { id: string }) => d.id), [deployed[3], deployed[0]]);
  t.equal((await get(node.httpPort, site, '/')).body.toString(), 'gc v4', 'the site still serves');
  const young = await node.api('POST', '/v1/pages/gc', { body: { keep: 1 } });
  t.equal(young.body.blobsRemoved, 0, 'with the default grace period, fresh blobs are kept');
});

t.test('a site:HOST key deploys to its site and nowhere else', async (t) => {
  const created = await node.api('POST', '/v1/keys', { body: { scope: 'site:ci.example.test', name: 'ci' } });
  t.equal(created.status, 201);
  t.equal(created.body.scope, 'site:ci.example.test');
  const ci: ApiTarget = { api: (method, url, options) => node.api(method, url, { ...options, key: created.body.secret }) };
  const own = await deployTree(ci, 'ci.example.test', { 'index.html': 'from ci' });
  t.equal(own.result.status, 201);
  t.equal((await get(node.httpPort, 'ci.example.test', '/')).body.toString(), 'from ci');
  t.equal((await ci.api('POST', '/v1/sites/ci.example.test/rollback', { body: {} })).status, 404, 'may roll back its own site (none earlier here)');
  const other = await deployTree(ci, 'other.example.test', { 'index.html': 'x' });
  t.equal(other.result.status, 403);
  t.same((await ci.api('GET', '/v1/sites')).body.sites.map((s: { host: string }) => s.host), ['ci.example.test'], 'lists only its site');
  t.equal((await ci.api('POST', '/v1/pages/gc', { body: {} })).status, 403, 'gc needs admin');
  t.equal((await ci.api('PUT', '/v1/sites/ci.example.test', { body: { aliases: ['www.ci.example.test'] } })).status, 403, 'aliases need admin');
  t.equal((await ci.api('GET', '/v1/zones')).status, 403, 'and nothing in DNS');
});
