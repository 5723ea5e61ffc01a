// Who may call what: every route of the API × the key it is called with → the status it answers, as one table
// (issue 12). The routes are read from fastify itself (printRoutes) on a whole node as `edgedns serve` starts it
// (startTestNode), so every route a node registers needs a row here, and a row for a route that no longer exists
// fails too. Requests go in-process, through inject().
//
// Columns, in the order each row is called: no key, a key that does not exist, zone:Y (other.test), acme:X
// (example.test), site:S (s.example.test), zone:X (example.test), admin. Writes that a key may make are real
// writes, so a later column can see an earlier one's effect (a second PUT of an RRset is 200, not 201). Where an
// admin write would change what other rows rely on, the row aims at something absent: auth passes, then 404/400.
// The table fails authentication on purpose twice a row; each row is sent from a client address of its own with an
// unknown key of its own, so the failure limiter (20 a minute per address and per key, api-limits.test.ts) never
// turns a 401 here into a 429.

import { createHash } from 'node:crypto';
import path from 'node:path';
import t from 'tap';
import { startTestNode, type TestNode } from '../helpers/node.js';

const FIXTURES = path.resolve('test/fixtures/api');
const ZONES = [path.join(FIXTURES, 'example.test.zone'), path.join(FIXTURES, 'other.test.zone')];
const WHO = ['none', 'bad', 'zone:Y', 'acme:X', 'site:S', 'zone:X', 'admin'] as const;
type Who = (typeof WHO)[number];
type Statuses = [none: number, bad: number, zoneY: number, acmeX: number, siteS: number, zoneX: number, admin: number];

const FILE = Buffer.from('<p>authorization</p>\n');
const FILE_SHA = createHash('sha256').update(FILE).digest('hex');
const VALUE = 'authz-table-value-LoqXcYV8q5ONbJQxbmR7SCTNo3t';
const PDNS = '/api/v1/servers/localhost';

interface Request {
  url: string;
  /** JSON unless a Buffer (sent as application/octet-stream). */
  body?: unknown;
}

/** Filled in once the fixtures exist (a deployment's id). */
const fixture = { deployment: '' };

// prettier-ignore
const TABLE: [route: string, request: () => Request, expected: Statuses][] = [
  //                                                                                                          none bad  zY   aX   sS   zX   admin
  // open routes (auth.ts OPEN_ROUTES)
  ['GET /healthz',                                   () => ({ url: '/healthz' }),                                [200, 200, 200, 200, 200, 200, 200]],
  ['GET /metrics',                                   () => ({ url: '/metrics' }),                                [200, 200, 200, 200, 200, 200, 200]],
  ['GET /v1/openapi.json',                           () => ({ url: '/v1/openapi.json' }),                        [200, 200, 200, 200, 200, 200, 200]],
  ['GET /v1/docs',                                   () => ({ url: '/v1/docs' }),                                [200, 200, 200, 200, 200, 200, 200]],
  ['GET /health',                                    () => ({ url: '/health' }),                                 [200, 200, 200, 200, 200, 200, 200]],
  ['GET /api',                                       () => ({ url: '/api' }),                                    [200, 200, 200, 200, 200, 200, 200]],
  // acme-dns's own credentials (X-Api-User + X-Api-Key): an API key is not one
  ['POST /update',                                   () => ({ url: '/update', body: { subdomain: 'x', txt: VALUE } }), [401, 401, 401, 401, 401, 401, 401]],
  ['POST /register',                                 () => ({ url: '/register', body: { allowfrom: [] } }),      [401, 401, 403, 403, 403, 403, 201]],
  // zones: admin only
  ['GET /v1/zones',                                  () => ({ url: '/v1/zones' }),                               [401, 401, 403, 403, 403, 403, 200]],
  ['POST /v1/zones',                                 () => ({ url: '/v1/zones', body: {} }),                     [401, 401, 403, 403, 403, 403, 400]],
  ['GET /v1/zones/:zone',                            () => ({ url: '/v1/zones/example.test' }),                  [401, 401, 403, 403, 403, 403, 200]],
  ['DELETE /v1/zones/:zone',                         () => ({ url: '/v1/zones/absent.test' }),                   [401, 401, 403, 403, 403, 403, 404]],
  ['GET /v1/zones/:zone/export',                     () => ({ url: '/v1/zones/example.test/export' }),           [401, 401, 403, 403, 403, 403, 200]],
  // RRsets: admin and the zone's own key
  ['GET /v1/zones/:zone/rrsets',                     () => ({ url: '/v1/zones/example.test/rrsets' }),           [401, 401, 403, 403, 403, 200, 200]],
  ['GET /v1/zones/:zone/rrsets/:name/:type',         () => ({ url: '/v1/zones/example.test/rrsets/www/A' }),     [401, 401, 403, 403, 403, 200, 200]],
  ['PUT /v1/zones/:zone/rrsets/:name/:type',         () => ({ url: '/v1/zones/example.test/rrsets/authz/A', body: { ttl: 60, records: ['192.0.2.50'] } }), [401, 401, 403, 403, 403, 201, 200]],
  ['DELETE /v1/zones/:zone/rrsets/:name/:type',      () => ({ url: '/v1/zones/example.test/rrsets/absent/A' }),  [401, 401, 403, 403, 403, 404, 404]],
  // keys: admin only
  ['GET /v1/keys',                                   () => ({ url: '/v1/keys' }),                                [401, 401, 403, 403, 403, 403, 200]],
  ['POST /v1/keys',                                  () => ({ url: '/v1/keys', body: {} }),                      [401, 401, 403, 403, 403, 403, 400]],
  ['DELETE /v1/keys/:id',                            () => ({ url: '/v1/keys/absent' }),                         [401, 401, 403, 403, 403, 403, 404]],
  // TSIG keys (RFC 2136): admin only, like API keys
  ['GET /v1/tsig-keys',                              () => ({ url: '/v1/tsig-keys' }),                           [401, 401, 403, 403, 403, 403, 200]],
  ['POST /v1/tsig-keys',                             () => ({ url: '/v1/tsig-keys', body: {} }),                 [401, 401, 403, 403, 403, 403, 400]],
  ['DELETE /v1/tsig-keys/:name',                     () => ({ url: '/v1/tsig-keys/absent.' }),                   [401, 401, 403, 403, 403, 403, 404]],
  // ACME: any key lists what its scope covers; writes by admin, the zone's key, or acme: of the name
  ['GET /v1/acme/challenges',                        () => ({ url: '/v1/acme/challenges' }),                     [401, 401, 200, 200, 200, 200, 200]],
  ['POST /v1/acme/challenges',                       () => ({ url: '/v1/acme/challenges', body: { domain: 'www.example.test', value: VALUE } }), [401, 401, 403, 201, 403, 201, 201]],
  ['DELETE /v1/acme/challenges',                     () => ({ url: '/v1/acme/challenges', body: { domain: 'www.example.test', value: 'absent' } }), [401, 401, 403, 404, 403, 404, 404]],
  ['POST /v1/acme/httpreq/present',                  () => ({ url: '/v1/acme/httpreq/present', body: { fqdn: '_acme-challenge.www.example.test.', value: VALUE } }), [401, 401, 403, 200, 403, 200, 200]],
  ['POST /v1/acme/httpreq/cleanup',                  () => ({ url: '/v1/acme/httpreq/cleanup', body: { fqdn: '_acme-challenge.www.example.test.', value: VALUE } }), [401, 401, 403, 200, 403, 200, 200]],
  // geo: admin only
  ['GET /v1/edges',                                  () => ({ url: '/v1/edges' }),                               [401, 401, 403, 403, 403, 403, 200]],
  ['POST /v1/edges',                                 () => ({ url: '/v1/edges', body: {} }),                     [401, 401, 403, 403, 403, 403, 400]],
  ['GET /v1/edges/:edge',                            () => ({ url: '/v1/edges/absent' }),                        [401, 401, 403, 403, 403, 403, 404]],
  ['PUT /v1/edges/:edge',                            () => ({ url: '/v1/edges/absent', body: { nonsense: true } }),              [401, 401, 403, 403, 403, 403, 400]],
  ['PATCH /v1/edges/:edge',                          () => ({ url: '/v1/edges/absent', body: {} }),              [401, 401, 403, 403, 403, 403, 404]],
  ['DELETE /v1/edges/:edge',                         () => ({ url: '/v1/edges/absent' }),                        [401, 401, 403, 403, 403, 403, 404]],
  ['GET /v1/pools',                                  () => ({ url: '/v1/pools' }),                               [401, 401, 403, 403, 403, 403, 200]],
  ['POST /v1/pools',                                 () => ({ url: '/v1/pools', body: {} }),                     [401, 401, 403, 403, 403, 403, 400]],
  ['GET /v1/pools/:pool',                            () => ({ url: '/v1/pools/absent' }),                        [401, 401, 403, 403, 403, 403, 404]],
  ['PUT /v1/pools/:pool',                            () => ({ url: '/v1/pools/absent', body: { nonsense: true } }),              [401, 401, 403, 403, 403, 403, 400]],
  ['PATCH /v1/pools/:pool',                          () => ({ url: '/v1/pools/absent', body: {} }),              [401, 401, 403, 403, 403, 403, 404]],
  ['DELETE /v1/pools/:pool',                         () => ({ url: '/v1/pools/absent' }),                        [401, 401, 403, 403, 403, 403, 404]],
  ['GET /v1/pools/:pool/explain',                    () => ({ url: '/v1/pools/absent/explain' }),                [401, 401, 403, 403, 403, 403, 404]],
  ['GET /v1/route',                                  () => ({ url: '/v1/route?name=www.example.test&type=A' }),  [401, 401, 403, 403, 403, 403, 404]],
  // cluster: admin only
  ['GET /v1/conflicts',                              () => ({ url: '/v1/conflicts' }),                           [401, 401, 403, 403, 403, 403, 200]],
  ['POST /v1/conflicts/resolve',                     () => ({ url: '/v1/conflicts/resolve', body: {} }),         [401, 401, 403, 403, 403, 403, 400]],
  // pages: admin and site: keys (blobs are shared by every site); settings and gc are admin only
  ['POST /v1/blobs/missing',                         () => ({ url: '/v1/blobs/missing', body: { hashes: [FILE_SHA] } }), [401, 401, 403, 403, 200, 403, 200]],
  ['PUT /v1/blobs/:sha256',                          () => ({ url: `/v1/blobs/${FILE_SHA}`, body: FILE }),       [401, 401, 403, 403, 200, 403, 200]],
  ['GET /v1/sites',                                  () => ({ url: '/v1/sites' }),                               [401, 401, 200, 200, 200, 200, 200]],
  ['GET /v1/sites/:host',                            () => ({ url: '/v1/sites/s.example.test' }),                [401, 401, 403, 403, 200, 403, 200]],
  ['PUT /v1/sites/:host',                            () => ({ url: '/v1/sites/s.example.test', body: { previews: true } }), [401, 401, 403, 403, 403, 403, 200]],
  ['POST /v1/sites/:host/deployments',               () => ({ url: '/v1/sites/s.example.test/deployments', body: { files: { 'index.html': { sha256: FILE_SHA, size: FILE.length } }, preview: true } }), [401, 401, 403, 403, 201, 403, 201]],
  ['GET /v1/sites/:host/deployments',                () => ({ url: '/v1/sites/s.example.test/deployments' }),    [401, 401, 403, 403, 200, 403, 200]],
  ['GET /v1/sites/:host/deployments/:id',            () => ({ url: `/v1/sites/s.example.test/deployments/${fixture.deployment}` }), [401, 401, 403, 403, 200, 403, 200]],
  ['POST /v1/sites/:host/promote',                   () => ({ url: '/v1/sites/s.example.test/promote', body: { deployment: fixture.deployment } }), [401, 401, 403, 403, 200, 403, 200]],
  ['POST /v1/sites/:host/rollback',                  () => ({ url: '/v1/sites/s.example.test/rollback', body: { deployment: fixture.deployment } }), [401, 401, 403, 403, 200, 403, 200]],
  ['POST /v1/pages/gc',                              () => ({ url: '/v1/pages/gc', body: { graceSeconds: 86400 } }), [401, 401, 403, 403, 403, 403, 200]],
  // certificates and the cluster key: admin only (they concern every site). This node orders nothing
  // (--acme-directory none), so an order is 422 not_orderable; a PEM pair that is none is 422 invalid_certificate.
  ['GET /v1/certs',                                  () => ({ url: '/v1/certs' }),                               [401, 401, 403, 403, 403, 403, 200]],
  ['PUT /v1/certs/:name',                            () => ({ url: '/v1/certs/s.example.test', body: { cert: 'not a PEM chain', key: 'not a PEM key' } }), [401, 401, 403, 403, 403, 403, 422]],
  ['POST /v1/certs/:name/renew',                     () => ({ url: '/v1/certs/s.example.test/renew' }),          [401, 401, 403, 403, 403, 403, 422]],
  ['POST /v1/secrets/rotate',                        () => ({ url: '/v1/secrets/rotate' }),                      [401, 401, 403, 403, 403, 403, 200]],
  // PowerDNS: any key sees the server; zones as their scopes allow (acme: keys see the zone of their name)
  ['GET /api/v1/servers',                            () => ({ url: '/api/v1/servers' }),                         [401, 401, 200, 200, 200, 200, 200]],
  [`GET ${PDNS}`,                                    () => ({ url: PDNS }),                                      [401, 401, 200, 200, 200, 200, 200]],
  [`GET ${PDNS}/config`,                             () => ({ url: `${PDNS}/config` }),                          [401, 401, 200, 200, 200, 200, 200]],
  [`GET ${PDNS}/zones`,                              () => ({ url: `${PDNS}/zones` }),                           [401, 401, 200, 200, 200, 200, 200]],
  [`POST ${PDNS}/zones`,                             () => ({ url: `${PDNS}/zones`, body: {} }),                 [401, 401, 403, 403, 403, 403, 422]],
  [`GET ${PDNS}/zones/:id`,                          () => ({ url: `${PDNS}/zones/example.test.` }),             [401, 401, 403, 200, 403, 200, 200]],
  [`PATCH ${PDNS}/zones/:id`,                        () => ({ url: `${PDNS}/zones/example.test.`, body: { rrsets: [{ name: '_acme-challenge.example.test.', type: 'TXT', ttl: 60, changetype: 'REPLACE', records: [{ content: `"${VALUE}"`, disabled: false }] }] } }), [401, 401, 403, 204, 403, 204, 204]],
  [`DELETE ${PDNS}/zones/:id`,                       () => ({ url: `${PDNS}/zones/absent.test.` }),              [401, 401, 403, 403, 403, 403, 404]],
  [`PUT ${PDNS}/zones/:id/notify`,                   () => ({ url: `${PDNS}/zones/example.test./notify` }),      [401, 401, 403, 200, 403, 200, 200]],
  // server-wide reads any key may make (search results are cut to the key's scope)
  [`GET ${PDNS}/statistics`,                         () => ({ url: `${PDNS}/statistics` }),                      [401, 401, 200, 200, 200, 200, 200]],
  [`GET ${PDNS}/search-data`,                        () => ({ url: `${PDNS}/search-data?q=*` }),                 [401, 401, 200, 200, 200, 200, 200]],
  // a whole zone's text: the zone's own key and admin, not an acme: key (it sees only its challenge names)
  [`GET ${PDNS}/zones/:id/export`,                   () => ({ url: `${PDNS}/zones/example.test./export` }),      [401, 401, 403, 403, 403, 200, 200]],
  // no DNSSEC and no metadata yet: readers of the zone get empty lists, writers are told it is not supported
  [`GET ${PDNS}/zones/:id/cryptokeys`,               () => ({ url: `${PDNS}/zones/example.test./cryptokeys` }),  [401, 401, 403, 403, 403, 200, 200]],
  [`POST ${PDNS}/zones/:id/cryptokeys`,              () => ({ url: `${PDNS}/zones/example.test./cryptokeys`, body: {} }), [401, 401, 403, 403, 403, 422, 422]],
  [`GET ${PDNS}/zones/:id/cryptokeys/:key`,          () => ({ url: `${PDNS}/zones/example.test./cryptokeys/1` }), [401, 401, 403, 403, 403, 404, 404]],
  [`GET ${PDNS}/zones/:id/metadata`,                 () => ({ url: `${PDNS}/zones/example.test./metadata` }),    [401, 401, 403, 403, 403, 200, 200]],
  [`POST ${PDNS}/zones/:id/metadata`,                () => ({ url: `${PDNS}/zones/example.test./metadata`, body: {} }), [401, 401, 403, 403, 403, 422, 422]],
  [`GET ${PDNS}/zones/:id/metadata/:kind`,           () => ({ url: `${PDNS}/zones/example.test./metadata/ALLOW-AXFR-FROM` }), [401, 401, 403, 403, 403, 200, 200]],
  [`PUT ${PDNS}/zones/:id/metadata/:kind`,           () => ({ url: `${PDNS}/zones/example.test./metadata/ALLOW-AXFR-FROM`, body: {} }), [401, 401, 403, 403, 403, 422, 422]],
  [`DELETE ${PDNS}/zones/:id/metadata/:kind`,        () => ({ url: `${PDNS}/zones/example.test./metadata/ALLOW-AXFR-FROM` }), [401, 401, 403, 403, 403, 422, 422]],
];

/** "METHOD /path" of every route fastify has, read from its route tree (HEAD, which mirrors GET, left out). */
function routesOf(tree: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    stack.length = depth;
    stack.push(m[2] as string);
    for (const method of (m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD')) routes.push(`${method} ${stack.join('')}`);
  }
  return routes;
}

/** The key each column sends (none: no key; bad: a key that does not exist, another for each row). */
async function keys(node: TestNode): Promise<Record<Exclude<Who, 'bad'>, string | null>> {
  const key = async (scope: string): Promise<string> => (await node.api('POST', '/v1/keys', { body: { scope } })).body.secret;
  return {
    none: null,
    'zone:Y': await key('zone:other.test'),
    'acme:X': await key('acme:example.test'),
    'site:S': await key('site:s.example.test'),
    'zone:X': await key('zone:example.test'),
    admin: node.adminKey,
  };
}

t.test('every route × every kind of key answers as the table says', async (t) => {
  const node = await startTestNode({ zoneFiles: ZONES, flags: { geoip: 'none', 'acme-directory': 'none', 'acme-dns-domain': 'auth.example.test' } });
  t.teardown(() => node.close());
  const key = await keys(node);

  const routes = routesOf(node.node.api.app.printRoutes({ commonPrefix: false }));
  t.ok(routes.length >= 50, `fastify lists ${routes.length} routes`);
  const rows = new Map(TABLE.map(([route, request, expected]) => [route, { request, expected }]));
  t.equal(rows.size, TABLE.length, 'one row per route');
  for (const route of routes) t.ok(rows.has(route), `${route} has a row in the table`);
  for (const route of rows.keys()) t.ok(routes.includes(route), `${route} is a route`);

  // The site's first deployment, by the admin: rows about deployments need one.
  const upload = await node.api('PUT', `/v1/blobs/${FILE_SHA}`, { headers: { 'content-type': 'application/octet-stream' }, body: FILE });
  t.equal(upload.status, 201);
  const first = await node.api('POST', '/v1/sites/s.example.test/deployments', { body: { files: { 'index.html': { sha256: FILE_SHA, size: FILE.length } } } });
  t.equal(first.status, 201);
  fixture.deployment = first.body.id;

  t.ok(rows.size < 256, 'few enough rows for an address each');
  for (const [row, [route, { request, expected }]] of [...rows].entries()) {
    const method = route.slice(0, route.indexOf(' '));
    const remoteAddress = `198.18.${row}.1`;
    const got: number[] = [];
    for (const who of WHO) {
      const { url, body } = request();
      const sent = who === 'bad' ? `edg_thiskeydoesnotexistanywhere${String(row).padStart(3, '0')}` : key[who];
      // key: null sends no X-API-Key; the key goes as a bearer token, the header most clients send
      const headers: Record<string, string> = sent === null ? {} : { authorization: `Bearer ${sent}` };
      if (Buffer.isBuffer(body)) headers['content-type'] = 'application/octet-stream';
      const response = await node.api(method, url, { key: null, headers, body, remoteAddress });
      got.push(response.status);
    }
    t.same(got, expected, `${route}  [${WHO.join(' ')}]`);
  }

  // A key without the scope is refused before its body is read (docs/api.md): a body that is not even JSON gets the
  // same 403 on every admin-only route that takes one, never a 400 about the body.
  const adminOnly = [...rows].filter(([route, { expected }]) => /^(POST|PUT|PATCH|DELETE) /.test(route) && expected.slice(2, 6).every((s) => s === 403));
  t.ok(adminOnly.length >= 15, `${adminOnly.length} admin-only routes that take a body`);
  for (const [route, { request }] of adminOnly) {
    const method = route.slice(0, route.indexOf(' '));
    const response = await node.api(method, request().url, { key: key['zone:X'], headers: { 'content-type': 'application/json' }, body: '{"not json', remoteAddress: '198.19.0.1' });
    t.equal(response.status, 403, `${route} with zone:X and a broken body: 403 before the body is read`);
  }
});
