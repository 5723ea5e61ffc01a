// Scoped keys: a zone: key only touches its zone, an acme: key only challenge TXT values at its name, revoked and
// expired keys stop working, every header form works, and failed authentication is rate-limited per address
// without locking out a valid key (test/api/api-limits.test.ts has the rest of the limits).

import t, { type Test } from 'tap';
import path from 'node:path';
import { startTestNode, type TestNode } from '../helpers/node.js';

const FIXTURES = path.resolve('test/fixtures/api');
const ZONES = [path.join(FIXTURES, 'example.test.zone'), path.join(FIXTURES, 'other.test.zone')];
const VALUE = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

async function setup(t: Test): Promise<{ node: TestNode; admin: string; create(body: object): Promise<{ id: string; secret: string }> }> {
  const node = await startTestNode({ zoneFiles: ZONES });
  t.teardown(() => node.close());
  const admin = node.adminKey;
  return {
    node,
    admin,
    async create(body) {
      const r = await node.api('POST', '/v1/keys', { key: admin, body });
      if (r.status !== 201) throw new Error(`key create failed: ${JSON.stringify(r.body)}`);
      return r.body;
    },
  };
}

t.test('a zone: key touches its zone only', async (t) => {
  const { node, create } = await setup(t);
  const zoneKey = (await create({ scope: 'zone:example.test', name: 'ci deploy' })).secret;
  const as = (method: string, p: string, body?: unknown) => node.api(method, p, { key: zoneKey, body });
  t.equal((await as('PUT', '/v1/zones/example.test/rrsets/ci/A', { ttl: 60, records: ['192.0.2.5'] })).status, 201, 'own zone: allowed');
  const other = await as('PUT', '/v1/zones/other.test/rrsets/ci/A', { ttl: 60, records: ['192.0.2.5'] });
  t.equal(other.status, 403, 'another zone: forbidden');
  t.equal(other.body.error.code, 'forbidden');
  t.match(other.body.error.message, /zone:example\.test/);
  t.equal((await as('GET', '/v1/zones/other.test/rrsets')).status, 403, 'cannot even read another zone');
  t.equal((await as('GET', '/v1/keys')).status, 403, 'keys need admin');
  t.equal((await as('DELETE', '/v1/zones/example.test')).status, 403, 'deleting zones needs admin');
  t.equal((await as('POST', '/v1/acme/challenges', { domain: 'example.test', value: VALUE })).status, 201, 'its zone\'s challenges: allowed');
  t.equal((await as('POST', '/v1/acme/challenges', { domain: 'other.test', value: VALUE })).status, 403, 'another zone\'s challenges: forbidden');
});

t.test('an acme: key writes only _acme-challenge TXT values of its name', async (t) => {
  const { node, create } = await setup(t);
  const acmeKey = (await create({ scope: 'acme:example.test' })).secret;
  const as = (method: string, p: string, body?: unknown) => node.api(method, p, { key: acmeKey, body });
  t.equal((await as('POST', '/v1/acme/challenges', { domain: 'example.test', value: VALUE })).status, 201, 'apex');
  t.equal((await as('POST', '/v1/acme/challenges', { domain: '*.example.test', value: VALUE + 'x' })).status, 201, 'wildcard');
  t.equal((await as('POST', '/v1/acme/challenges', { domain: 'www.example.test', value: VALUE })).status, 201, 'a subdomain');
  t.equal((await as('POST', '/v1/acme/challenges', { domain: 'other.test', value: VALUE })).status, 403, 'another name');
  t.equal((await as('POST', '/v1/acme/httpreq/present', { fqdn: 'www.example.test.', value: VALUE })).status, 403, 'not a challenge name');
  const a = await as('PUT', '/v1/zones/example.test/rrsets/www/A', { ttl: 60, records: ['192.0.2.66'] });
  t.equal(a.status, 403, 'an A record: forbidden');
  const pdnsA = await node.api('PATCH', '/api/v1/servers/localhost/zones/example.test.', {
    key: acmeKey,
    body: { rrsets: [{ name: 'www.example.test.', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '192.0.2.66', disabled: false }] }] },
  });
  t.equal(pdnsA.status, 403, 'an A record through the PowerDNS API: forbidden');
  const pdnsTxt = await node.api('PATCH', '/api/v1/servers/localhost/zones/example.test.', {
    key: acmeKey,
    body: { rrsets: [{ name: '_acme-challenge.example.test.', type: 'TXT', ttl: 60, changetype: 'REPLACE', records: [{ content: `"${VALUE}"`, disabled: false }] }] },
  });
  t.equal(pdnsTxt.status, 204, 'its challenge TXT through the PowerDNS API: allowed');
});

t.test('revoked and expired keys stop working; every header form is accepted; last use is recorded', async (t) => {
  const { node, admin, create } = await setup(t);
  const k = await create({ scope: 'zone:example.test', name: 'short' });
  const bearer = await node.api('GET', '/v1/zones/example.test/rrsets', { key: null, headers: { authorization: `Bearer ${k.secret}` } });
  t.equal(bearer.status, 200, 'Authorization: Bearer');
  const basic = await node.api('GET', '/v1/zones/example.test/rrsets', { key: null, headers: { authorization: 'Basic ' + Buffer.from(`lego:${k.secret}`).toString('base64') } });
  t.equal(basic.status, 200, 'HTTP Basic with the key as password (lego httpreq)');
  t.equal((await node.api('GET', '/v1/zones/example.test/rrsets', { key: k.secret })).status, 200, 'X-API-Key');

  const listed = await node.api('GET', '/v1/keys', { key: admin });
  const entry = listed.body.keys.find((x: { id: string }) => x.id === k.id);
  t.ok(entry.lastUsedAt, 'last use recorded');
  t.notOk('hash' in entry, 'the hash is never shown');
  t.ok(listed.body.keys.some((x: { name: string; scope: string }) => /bootstrap/.test(x.name) && x.scope === 'admin'), 'the bootstrap key is an ordinary admin key in the list');

  const revoked = await node.api('DELETE', `/v1/keys/${k.id}`, { key: admin });
  t.equal(revoked.status, 200);
  t.ok(revoked.body.revokedAt);
  const after = await node.api('GET', '/v1/zones/example.test/rrsets', { key: k.secret });
  t.equal(after.status, 401);
  t.match(after.body.error.message, /revoked/);
  t.equal((await node.api('DELETE', '/v1/keys/nope', { key: admin })).body.error.code, 'key_not_found');

  const shortLived = await create({ scope: 'admin', expires: '1s' });
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await node.api('GET', '/v1/keys', { key: shortLived.secret });
  t.equal(expired.status, 401);
  t.match(expired.body.error.message, /expired/);

  for (const [body, field] of [
    [{ scope: 'root' }, 'scope'],
    [{ scope: 'zone:' }, 'scope'],
    [{ scope: 'admin', expires: 'soon' }, 'expires'],
    [{ scope: 'admin', expires: '2001-01-01' }, 'expires'],
    [{ name: 'x' }, 'scope'],
  ] as const) {
    const r = await node.api('POST', '/v1/keys', { key: admin, body });
    t.equal(r.status, 400, JSON.stringify(body));
    t.equal(r.body.error.field, field);
  }
});

t.test('failed authentications are limited per client address (429 with Retry-After), valid keys pass', async (t) => {
  const { node, admin } = await setup(t);
  let last = 0;
  for (let i = 0; i < 20; i++) last = (await node.api('GET', '/v1/keys', { key: `wrong-${i}` })).status;
  t.equal(last, 401, 'the first 20 failures are 401');
  const limited = await node.api('GET', '/v1/keys', { key: 'wrong-again' });
  t.equal(limited.status, 429);
  t.equal(limited.body.error.code, 'too_many_requests');
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After says when');
  t.equal((await node.api('GET', '/v1/keys', { key: admin })).status, 200, 'a valid key from the same address is not locked out (issue 12)');
  const metrics = await node.api('GET', '/metrics', { key: null });
  t.match(metrics.body, /edgedns_api_auth_failures_total\{reason="unknown"\} 21/);
  t.match(metrics.body, /edgedns_api_auth_rate_limited_total 1/);
});
