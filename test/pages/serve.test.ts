// The asset server, over real HTTP against a real node: a deployed tree is served with its types and ETags, clean
// URLs and 404.html as on Cloudflare Pages, and nothing outside the manifest can be reached.

import t from 'tap';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { deployTree, get, sha256 } from './pages-helpers.js';

const SITE = 'blog.example.test';
const TREE = {
  'index.html': '<h1>home</h1>',
  'about.html': '<h1>about</h1>',
  'docs/index.html': '<h1>docs</h1>',
  'docs/guide.html': '<h1>guide</h1>',
  'docs/404.html': '<h1>no such doc</h1>',
  '404.html': '<h1>not here</h1>',
  'assets/app.3f9a1c2e.js': 'console.log(1)',
  'assets/style.css': 'body{}',
  'img/logo.svg': '<svg/>',
  'data.json': '{"a":1}',
  'files/a b.txt': 'space',
  'noext': 'raw',
};

let node: TestNode;
t.before(async () => {
  node = await startTestNode();
  const { result } = await deployTree(node, SITE, TREE);
  if (result.status !== 201) throw new Error(JSON.stringify(result.body));
});
t.teardown(() => node?.close());

const page = (path: string, headers?: Record<string, string>) => get(node.httpPort, SITE, path, { headers });

t.test('every file is served with its type, a strong ETag of its sha256 and nosniff', async (t) => {
  const types: Record<string, string> = {
    '/assets/app.3f9a1c2e.js': 'text/javascript; charset=utf-8',
    '/assets/style.css': 'text/css; charset=utf-8',
    '/img/logo.svg': 'image/svg+xml',
    '/data.json': 'application/json',
    '/noext': 'application/octet-stream',
    '/files/a%20b.txt': 'text/plain; charset=utf-8',
  };
  for (const [path, type] of Object.entries(types)) {
    const res = await page(path);
    const source = TREE[decodeURIComponent(path).slice(1) as keyof typeof TREE];
    t.equal(res.status, 200, path);
    t.equal(res.body.toString(), source, `${path} body`);
    t.equal(res.headers['content-type'], type, `${path} type`);
    t.equal(res.headers.etag, `"${sha256(source)}"`, `${path} ETag`);
    t.equal(res.headers['x-content-type-options'], 'nosniff');
    t.equal(Number(res.headers['content-length']), Buffer.byteLength(source));
  }
});

t.test('HTML revalidates every time; a fingerprinted asset is cached for a year', async (t) => {
  t.equal((await page('/')).headers['cache-control'], 'public, max-age=0, must-revalidate');
  t.equal((await page('/assets/style.css')).headers['cache-control'], 'public, max-age=0, must-revalidate');
  t.equal((await page('/assets/app.3f9a1c2e.js')).headers['cache-control'], 'public, max-age=31536000, immutable');
});

t.test('If-None-Match with the ETag gives 304 without a body; another ETag gives the file', async (t) => {
  const first = await page('/about');
  const etag = String(first.headers.etag);
  const again = await page('/about', { 'if-none-match': etag });
  t.equal(again.status, 304);
  t.equal(again.body.length, 0);
  t.equal(again.headers.etag, etag);
  t.equal((await page('/about', { 'if-none-match': `"x", W/${etag}` })).status, 304, 'weak comparison, in a list');
  t.equal((await page('/about', { 'if-none-match': '"other"' })).status, 200);
});

t.test('HEAD gives the headers of GET and no body', async (t) => {
  const res = await get(node.httpPort, SITE, '/docs/guide', { method: 'HEAD' });
  t.equal(res.status, 200);
  t.equal(res.body.length, 0);
  t.equal(Number(res.headers['content-length']), TREE['docs/guide.html'].length);
  t.equal(res.headers.etag, `"${sha256(TREE['docs/guide.html'])}"`);
});

t.test('other methods are refused with 405 and Allow', async (t) => {
  const res = await get(node.httpPort, SITE, '/', { method: 'POST' });
  t.equal(res.status, 405);
  t.equal(res.headers.allow, 'GET, HEAD');
});

t.test('clean URLs and index.html, as Cloudflare Pages does', async (t) => {
  const cases: [string, number, string][] = [
    ['/', 200, TREE['index.html']],
    ['/about', 200, TREE['about.html']],
    ['/docs/', 200, TREE['docs/index.html']],
    ['/docs/guide', 200, TREE['docs/guide.html']],
  ];
  for (const [path, status, body] of cases) {
    const res = await page(path);
    t.equal(res.status, status, path);
    t.equal(res.body.toString(), body, path);
  }
  const redirects: [string, string][] = [
    ['/about.html', '/about'],
    ['/about/', '/about'],
    ['/docs', '/docs/'],
    ['/docs/index.html', '/docs/'],
    ['/index.html', '/'],
    ['/docs/guide.html?x=1', '/docs/guide?x=1'],
  ];
  for (const [path, location] of redirects) {
    const res = await page(path);
    t.equal(res.status, 308, `${path} redirects`);
    t.equal(res.headers.location, location, `${path} → ${location}`);
  }
});

t.test('a missing path gets the nearest 404.html with status 404', async (t) => {
  const top = await page('/nothing/here');
  t.equal(top.status, 404);
  t.equal(top.body.toString(), TREE['404.html']);
  const docs = await page('/docs/missing');
  t.equal(docs.status, 404);
  t.equal(docs.body.toString(), TREE['docs/404.html'], 'the one in docs/ is nearer');
  t.equal((await page('/nothing', { 'if-none-match': String(top.headers.etag) })).status, 404, 'a 404 is never a 304');
});

t.test('an unknown host gets 404 with a plain message', async (t) => {
  const res = await get(node.httpPort, 'other.example.test', '/');
  t.equal(res.status, 404);
  t.match(res.headers['content-type'], /^text\/plain/);
  t.match(res.body.toString(), /no site is served at other\.example\.test/);
});

t.test('the Host header is matched without case, port or trailing dot', async (t) => {
  for (const host of ['BLOG.example.TEST', `${SITE}:8080`, `${SITE}.`]) {
    t.equal((await get(node.httpPort, host, '/')).status, 200, host);
  }
});

t.test('path traversal reaches nothing: lookups go through the manifest', async (t) => {
  for (const path of ['/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/docs/..%2f..%2fetc%2fpasswd', '/..\\..\\etc\\passwd', '/%00', '//etc/passwd', '/assets/../../admin.key']) {
    const res = await page(path);
    t.ok(res.status === 404 || res.status === 400, `${path} → ${res.status}`);
    t.notMatch(res.body.toString(), /root:|edg_/, `${path} leaks nothing`);
  }
  t.equal((await page('/%E0%A4%A')).status, 400, 'bad percent-encoding is a 400');
});

t.test('/_headers and /_redirects are configuration, not content', async (t) => {
  const { result } = await deployTree(node, 'rules.example.test', { 'index.html': 'x', _headers: '/*\n  X-A: 1\n', _redirects: '/a /b\n' });
  t.equal(result.status, 201);
  t.equal((await get(node.httpPort, 'rules.example.test', '/_headers')).status, 404);
  t.equal((await get(node.httpPort, 'rules.example.test', '/_redirects')).status, 404);
});

t.test('/healthz says the node can serve', async (t) => {
  const res = await get(node.httpPort, 'anything', '/healthz');
  t.equal(res.status, 200);
  t.match(JSON.parse(res.body.toString()), { status: 'ok' });
});

t.test('a hot file is served from memory: repeated requests do not read the store', async (t) => {
  const misses = async () => Number(/edgedns_pages_blob_cache_total\{result="miss"\} (\d+)/.exec(await node.node.registry.metrics())?.[1] ?? 0);
  await page('/data.json');
  const before = await misses();
  for (let i = 0; i < 20; i++) t.equal((await page('/data.json')).status, 200);
  t.equal(await misses(), before, 'no cache miss, so no store read');
});

t.test('metrics count requests by site and status, bytes served and cache hits', async (t) => {
  const text = (await node.api('GET', '/metrics', { key: null })).body as string;
  t.match(text, /edgedns_pages_requests_total\{site="blog\.example\.test",status="200"\} \d+/);
  t.match(text, /edgedns_pages_requests_total\{site="-",status="404"\} \d+/);
  t.match(text, /edgedns_pages_bytes_served_total\{site="blog\.example\.test"\} \d+/);
  t.match(text, /edgedns_pages_blob_cache_total\{result="hit"\} [1-9]/);
  t.match(text, /edgedns_pages_deploys_total\{result="ok"\} [1-9]/);
});
