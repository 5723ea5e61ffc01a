// Every value a client stores is bounded (issue 12): challenge values per name (600 once made a name unanswerable
// even over TCP), records per RRset (a 10,000-record RRset was accepted though no answer can carry it), where an
// acme-dns registration may update from (allowfrom was stored, never enforced), and what a zone: key may write
// under a child zone served on its own. One node for the file: challenge values live 2 s (--acme-lifetime) and
// acme-dns registers under auth.example.test.

import path from 'node:path';
import t from 'tap';
import { MAX_CHALLENGE_VALUES } from '../../src/acme/challenges.js';
import { MAX_RRSET_OCTETS } from '../../src/zone/rrset-size.js';
import { startTestNode } from '../helpers/node.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');
const PDNS = '/api/v1/servers/localhost';
const value = (i: number): string => `v${String(i).padStart(3, '0')}-${'x'.repeat(39)}`;

const LIFETIME_MS = 2000;
const node = await startTestNode({
  zoneFiles: [ZONE],
  flags: { geoip: 'none', 'acme-directory': 'none', 'acme-lifetime': String(LIFETIME_MS / 1000), 'acme-dns-domain': 'auth.example.test' },
});
t.teardown(() => node.close());
const admin = node.adminKey;
const newKey = async (scope: string): Promise<string> => (await node.api('POST', '/v1/keys', { body: { scope } })).body.secret;

/** A request with `key`; a string body is a zone file. */
function call(method: string, url: string, key: string, body?: unknown) {
  return node.api(method, url, { key, body, ...(typeof body === 'string' ? { headers: { 'content-type': 'text/dns' } } : {}) });
}

t.test(`a challenge name holds at most ${MAX_CHALLENGE_VALUES} values; expired ones make room first`, async (t) => {
  const add = (i: number) => call('POST', '/v1/acme/challenges', admin, { domain: 'www.example.test', value: value(i) });
  for (let i = 0; i < MAX_CHALLENGE_VALUES; i++) t.equal((await add(i)).status, 201, `value ${i}`);
  const over = await add(MAX_CHALLENGE_VALUES);
  t.equal(over.status, 409);
  t.match(over.body.error, { code: 'too_many_values', field: 'value', message: /^_acme-challenge\.www\.example\.test\. already holds 16 challenge values, .*retry after \d{4}-/ });
  t.equal((await add(3)).status, 201, 'adding a value that is there already is not over the limit');
  t.equal((await call('DELETE', '/v1/acme/challenges', admin, { domain: 'www.example.test', value: value(0) })).status, 204);
  t.equal((await add(MAX_CHALLENGE_VALUES)).status, 201, 'removing one makes room');
  await new Promise((r) => setTimeout(r, LIFETIME_MS + 100));
  t.equal((await add(100)).status, 201, 'once the values expire, a new one fits');
  const listed = await call('GET', '/v1/acme/challenges', admin);
  const atName = listed.body.challenges.filter((c: { name: string }) => c.name === '_acme-challenge.www.example.test.');
  t.same(atName.map((c: { value: string }) => c.value), [value(100)], 'the expired values are gone from the name');
  t.equal(await node.metricTotal('edgedns_api_errors_total', { code: 'too_many_values' }), 1, 'edgedns_api_errors_total{code="too_many_values"}');
});

t.test(`an RRset must fit one DNS message: at most ${MAX_RRSET_OCTETS} octets of records`, async (t) => {
  const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  // Each A record at big.example.test. takes 18 (owner) + 10 + 4 octets: 2015 fit in 64,511, 2016 do not.
  const put = (n: number) => call('PUT', '/v1/zones/example.test/rrsets/big/A', admin, { ttl: 60, records: addresses(n) });
  const ten = await put(10_000);
  t.equal(ten.status, 422, 'the 10,000-record RRset of the report');
  t.match(ten.body.error, { code: 'invalid_rrset', field: 'records', message: /10000 records take 320000 octets in an answer, over the limit of 64511/ });
  t.equal((await put(2016)).status, 422, 'one record over');
  t.equal((await put(2015)).status, 201, 'the largest that fits');

  const soa = '$ORIGIN huge.test.\n@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 60\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.1\n';
  const records = addresses(3000).map((a) => `many 60 IN A ${a}`).join('\n');
  const imported = await call('POST', '/v1/zones', admin, `${soa}${records}\n`);
  t.equal(imported.status, 422, 'a zone file import');
  t.match(imported.body.error, { code: 'invalid_zone', field: 'body', message: /many\.huge\.test\. A: 3000 records take \d+ octets in an answer, over the limit of 64511/ });
  const patch = await call('PATCH', `${PDNS}/zones/example.test.`, admin, {
    rrsets: [{ name: 'big2.example.test.', type: 'A', ttl: 60, changetype: 'REPLACE', records: addresses(3000).map((content) => ({ content, disabled: false })) }],
  });
  t.equal(patch.status, 422, 'a PowerDNS PATCH');
  t.match(patch.body, { code: 'invalid_rrset', field: 'rrsets.0.records', error: /over the limit of 64511/ });
});

t.test('acme-dns allowfrom is checked at registration and enforced on update', async (t) => {
  const garbage = await call('POST', '/register', admin, { allowfrom: ['192.0.2.0/24', 'not a network'] });
  t.equal(garbage.status, 400);
  t.match(garbage.body.error, { code: 'bad_request', field: 'allowfrom.1' });
  t.equal((await call('POST', '/register', admin, { allowfrom: ['192.0.2.0/33'] })).status, 400, 'a prefix too long');
  t.equal((await call('POST', '/register', admin, { allowfrom: '192.0.2.0/24' })).status, 400, 'not a list');

  const reg = await call('POST', '/register', admin, { allowfrom: ['192.0.2.0/24', '2001:db8::/32'] });
  t.equal(reg.status, 201);
  t.same(reg.body.allowfrom, ['192.0.2.0/24', '2001:db8::/32']);
  const update = (from: string, i: number) =>
    node.api('POST', '/update', { key: null, remoteAddress: from, headers: { 'x-api-user': reg.body.username, 'x-api-key': reg.body.password }, body: { subdomain: reg.body.subdomain, txt: value(i) } });
  const outside = await update('198.51.100.1', 1);
  t.equal(outside.status, 403);
  t.match(outside.body.error, { code: 'forbidden', field: 'allowfrom', message: /only from 192\.0\.2\.0\/24, 2001:db8::\/32, not from 198\.51\.100\.1/ });
  t.equal((await update('192.0.2.77', 2)).status, 200, 'inside the IPv4 network');
  t.equal((await update('::ffff:192.0.2.78', 3)).status, 200, 'the same network seen through a dual-stack socket');
  t.equal((await update('2001:db8:1::5', 4)).status, 200, 'inside the IPv6 network');

  const open = await call('POST', '/register', admin, {});
  t.same(open.body.allowfrom, [], 'no list: any address, as in acme-dns');
});

t.test('a zone: key cannot write at or below the apex of a child zone served on its own', async (t) => {
  const child = '$ORIGIN sub.example.test.\n@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 60\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.1\n';
  t.equal((await call('POST', '/v1/zones', admin, child)).status, 201);
  const parentKey = await newKey('zone:example.test');
  const childKey = await newKey('zone:sub.example.test');
  const put = (key: string, zone: string, name: string, type = 'A', records = ['192.0.2.9']) => call('PUT', `/v1/zones/${zone}/rrsets/${name}/${type}`, key, { ttl: 60, records });

  for (const [name, type, records] of [
    ['host.sub', 'A', ['192.0.2.9']],
    ['sub', 'TXT', ['"shadowing the child apex"']],
    ['_acme-challenge.sub', 'TXT', ['"x"']],
  ] as const) {
    const r = await put(parentKey, 'example.test', name, type, [...records]);
    t.equal(r.status, 403, `${name} ${type}`);
    t.match(r.body.error, { code: 'forbidden', message: /which is in zone sub\.example\.test\. \(served on its own; it needs admin\)/ });
  }
  t.equal((await call('DELETE', '/v1/zones/example.test/rrsets/host.sub/A', parentKey)).status, 403, 'nor delete there');
  t.equal((await put(parentKey, 'example.test', 'elsewhere')).status, 201, 'the rest of its zone is its own');
  t.equal((await put(childKey, 'sub.example.test', 'host')).status, 201, "the child's own key writes the child");
  t.equal((await put(admin, 'example.test', 'host.sub')).status, 201, 'an admin may');

  const patch = (name: string, type: string, content: string) =>
    call('PATCH', `${PDNS}/zones/example.test.`, parentKey, { rrsets: [{ name, type, ttl: 60, changetype: 'REPLACE', records: [{ content, disabled: false }] }] });
  t.equal((await patch('x.sub.example.test.', 'A', '192.0.2.1')).status, 403, 'PowerDNS PATCH: a name in the child');
  t.equal((await patch('_acme-challenge.sub.example.test.', 'TXT', '"x"')).status, 403, 'PowerDNS PATCH: a challenge in the child');
  t.equal((await patch('_acme-challenge.example.test.', 'TXT', '"x"')).status, 204, "PowerDNS PATCH: a challenge in the key's own zone");
  const acme = await call('POST', '/v1/acme/challenges', parentKey, { domain: 'www.sub.example.test', value: value(1) });
  t.equal(acme.status, 403, 'ACME route: the challenge name is in the child zone');
});
