// Bad input gets a 4xx JSON error naming the field the client sent, set by the code that found the fault (these
// fields were once picked by matching the message text), writes nothing, and the PowerDNS routes answer the same
// errors in PowerDNS's shape, byte for byte as its clients read them. One node for the file, called in-process
// through inject(); each subtest writes nothing the others read.

import t from 'tap';
import path from 'node:path';
import { startTestNode } from '../helpers/node.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');
const PDNS = '/api/v1/servers/localhost';

type Case = [what: string, method: 'PUT' | 'DELETE' | 'POST' | 'PATCH', url: string, body: unknown, status: number, code: string, field: string];

const node = await startTestNode({ zoneFiles: [ZONE], flags: { geoip: 'none', 'acme-directory': 'none' } });
t.teardown(() => node.close());
const call = (method: string, url: string, body?: unknown) => node.api(method, url, { body });

async function serial(): Promise<number> {
  return (await call('GET', '/v1/zones/example.test/rrsets')).body.serial;
}

t.test('REST RRsets: each bad part of a request is named', async (t) => {
  const first = await call('PUT', '/v1/zones/example.test/rrsets/api/A', { ttl: 60, records: ['192.0.2.10'] });
  t.equal(first.status, 201, JSON.stringify(first.body));
  const before = await serial();

  const rrset = '/v1/zones/example.test/rrsets';
  const cases: Case[] = [
    ['a negative TTL (schema)', 'PUT', `${rrset}/x/A`, { ttl: -1, records: ['192.0.2.1'] }, 400, 'bad_request', 'ttl'],
    ['an owner outside the zone', 'PUT', `${rrset}/www.example.org./A`, { ttl: 60, records: ['192.0.2.1'] }, 422, 'invalid_rrset', 'name'],
    ['an owner that is not a name', 'PUT', `${rrset}/a..b/A`, { ttl: 60, records: ['192.0.2.1'] }, 422, 'invalid_rrset', 'name'],
    ['an unknown type', 'PUT', `${rrset}/x/BOGUS`, { ttl: 60, records: ['1'] }, 400, 'bad_request', 'type'],
    ['the second record is bad', 'PUT', `${rrset}/x/A`, { ttl: 60, records: ['192.0.2.1', '300.1.1.1'] }, 422, 'invalid_rrset', 'records.1'],
    ['no records', 'PUT', `${rrset}/x/A`, { ttl: 60, records: [] }, 422, 'invalid_rrset', 'records'],
    // the message "type.example.test. A has no records" says "type": the field is still the records
    ['no records at a name with "type" in it', 'PUT', `${rrset}/type/A`, { ttl: 60, records: [] }, 422, 'invalid_rrset', 'records'],
    ['two CNAME targets', 'PUT', `${rrset}/x/CNAME`, { ttl: 60, records: ['a', 'b'] }, 422, 'invalid_rrset', 'records'],
    ['a pool on an MX RRset', 'PUT', `${rrset}/x/MX`, { ttl: 60, pool: 'web' }, 422, 'invalid_rrset', 'pool'],
    ['a pool name out of its alphabet', 'PUT', `${rrset}/x/A`, { ttl: 60, pool: 'Web!' }, 422, 'invalid_rrset', 'pool'],
    ['a stale revision', 'PUT', `${rrset}/api/A`, { ttl: 60, records: ['192.0.2.11'], revision: '1-0000' }, 409, 'revision_mismatch', 'revision'],
    ['a CNAME beside other data', 'PUT', `${rrset}/www/CNAME`, { ttl: 60, records: ['alias'] }, 422, 'invalid_zone', 'records'],
    ['an unknown zone', 'PUT', '/v1/zones/nope.test/rrsets/x/A', { ttl: 60, records: ['192.0.2.1'] }, 404, 'zone_not_found', 'zone'],
    ['a zone that is not a name', 'PUT', '/v1/zones/a..b/rrsets/x/A', { ttl: 60, records: ['192.0.2.1'] }, 400, 'bad_request', 'zone'],
    ['deleting an unknown type', 'DELETE', `${rrset}/x/BOGUS`, undefined, 400, 'bad_request', 'type'],
    ['deleting what is not there', 'DELETE', `${rrset}/nothing/A`, undefined, 404, 'rrset_not_found', 'name'],
    ['deleting at a stale revision', 'DELETE', `${rrset}/api/A?revision=1-0000`, undefined, 409, 'revision_mismatch', 'revision'],
    ['deleting the SOA', 'DELETE', `${rrset}/@/SOA`, undefined, 422, 'invalid_zone', 'records'],
  ];
  for (const [what, method, url, body, status, code, field] of cases) {
    const r = await call(method, url, body);
    t.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    t.same(Object.keys(r.body.error).sort(), ['code', 'field', 'message'], `${what}: {"error":{"code","message","field"}}`);
    t.equal(r.body.error.code, code, `${what}: code`);
    t.equal(r.body.error.field, field, `${what}: field`);
  }
  t.equal(await serial(), before, 'no failed request changed the zone');
});

t.test('zones and keys: the file, the origin, the scope and the id are named', async (t) => {
  const importZone = (text: string, query = '') => node.api('POST', `/v1/zones${query}`, { body: text, headers: { 'content-type': 'text/dns' } });
  const soa = '@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 60\n@ 300 IN NS ns1\nns1 300 IN A 192.0.2.1\n';

  const badLine = await importZone(`$ORIGIN new.test.\n${soa}www 300 IN A 300.1.1.1\n`, '?file=new.zone');
  t.equal(badLine.status, 400);
  t.match(badLine.body.error, { code: 'invalid_zone_file', field: 'body', message: /^new\.zone:5: / });
  const badOrigin = await importZone(soa, '?origin=a..b');
  t.match([badOrigin.status, badOrigin.body.error], [400, { code: 'bad_request', field: 'origin' }]);
  const invalid = await importZone(`${soa}@ 300 IN CNAME elsewhere.test.\n`, '?origin=new.test');
  t.equal(invalid.status, 422);
  t.match(invalid.body.error, { code: 'invalid_zone', field: 'body', message: /^request body: zone new\.test\. is not valid: / });
  const exists = await importZone(`$ORIGIN example.test.\n${soa}`);
  t.match([exists.status, exists.body.error], [409, { code: 'zone_exists', field: 'zone' }]);
  const gone = await call('DELETE', '/v1/zones/nope.test');
  t.match([gone.status, gone.body.error], [404, { code: 'zone_not_found', field: 'zone', message: 'zone nope.test. does not exist' }]);

  const scope = await call('POST', '/v1/keys', { scope: 'zone:a..b' });
  t.match([scope.status, scope.body.error], [400, { code: 'bad_request', field: 'scope' }]);
  const expires = await call('POST', '/v1/keys', { scope: 'admin', expires: 'soon' });
  t.match([expires.status, expires.body.error], [400, { code: 'bad_request', field: 'expires' }]);
  const noKey = await call('DELETE', '/v1/keys/k000000000000');
  t.match([noKey.status, noKey.body.error], [404, { code: 'key_not_found', field: 'id', message: 'no key with id k000000000000' }]);
  const resolve = await call('POST', '/v1/conflicts/resolve', { id: 'zone/example.test.', keep: '1-abc' });
  t.match([resolve.status, resolve.body.error], [404, { code: 'not_found', field: 'id' }]);
});

t.test('ACME: the domain, the value and the fqdn are named', async (t) => {
  // _acme-challenge.www delegated by CNAME (as for acme-dns): a TXT value beside it would break the zone
  t.equal((await call('PUT', '/v1/zones/example.test/rrsets/_acme-challenge.www/CNAME', { ttl: 60, records: ['elsewhere.test.'] })).status, 201);
  const cases: [string, string, unknown, number, string, string][] = [
    ['a value with a space', '/v1/acme/challenges', { domain: 'example.test', value: 'has space' }, 422, 'invalid_challenge', 'value'],
    ['a domain that is not a name', '/v1/acme/challenges', { domain: 'example..test', value: 'abc' }, 422, 'invalid_challenge', 'domain'],
    ['a domain in no zone served here', '/v1/acme/challenges', { domain: 'nowhere.test', value: 'abc' }, 404, 'zone_not_found', 'domain'],
    ['a value beside a CNAME', '/v1/acme/challenges', { domain: 'www.example.test', value: 'abc' }, 422, 'invalid_zone', 'value'],
    ['an fqdn that is not a name', '/v1/acme/httpreq/present', { fqdn: '_acme-challenge..example.test.', value: 'abc' }, 422, 'invalid_challenge', 'fqdn'],
    ['an httpreq value with a quote', '/v1/acme/httpreq/present', { fqdn: '_acme-challenge.example.test.', value: 'q"uote' }, 422, 'invalid_challenge', 'value'],
  ];
  for (const [what, url, body, status, code, field] of cases) {
    const r = await call('POST', url, body);
    t.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    t.match(r.body.error, { code, field }, what);
  }
  t.same((await call('GET', '/v1/acme/challenges')).body.challenges, [], 'no value was stored');
});

t.test('PowerDNS: the same errors, in PowerDNS shape, naming the rrset and its part', async (t) => {
  const change = (rrset: Record<string, unknown>) => ({ rrsets: [{ name: 'ok.example.test.', type: 'A', changetype: 'DELETE' }, { changetype: 'REPLACE', ttl: 60, ...rrset }] });
  const before = (await call('GET', `${PDNS}/zones/example.test.`)).body.serial;
  const cases: [string, unknown, string][] = [
    ['a relative name', change({ name: 'rel', type: 'A', records: [{ content: '192.0.2.1' }] }), 'rrsets.1.name'],
    ['a name outside the zone', change({ name: 'www.example.org.', type: 'A', records: [{ content: '192.0.2.1' }] }), 'rrsets.1.name'],
    ['a TTL out of range', change({ name: 'x.example.test.', type: 'A', ttl: 2 ** 31, records: [{ content: '192.0.2.1' }] }), 'rrsets.1.ttl'],
    ['an unknown type', change({ name: 'x.example.test.', type: 'BOGUS', records: [{ content: '1' }] }), 'rrsets.1.type'],
    ['an unknown type to delete', change({ name: 'x.example.test.', type: 'BOGUS', changetype: 'DELETE' }), 'rrsets.1.type'],
    // record 1 as sent: the disabled record 0 is not counted out of the index
    ['a bad record after a disabled one', change({ name: 'x.example.test.', type: 'A', records: [{ content: '192.0.2.1', disabled: true }, { content: '999.0.0.1' }] }), 'rrsets.1.records.1.content'],
    ['two CNAME targets', change({ name: 'x.example.test.', type: 'CNAME', records: [{ content: 'a.example.test.' }, { content: 'b.example.test.' }] }), 'rrsets.1.records'],
    ['a CNAME beside data', change({ name: 'www.example.test.', type: 'CNAME', records: [{ content: 'alias.example.test.' }] }), 'rrsets'], // the zone the PATCH's rrsets would make
  ];
  for (const [what, body, field] of cases) {
    const r = await call('PATCH', `${PDNS}/zones/example.test.`, body);
    t.equal(r.status, 422, `${what}: ${JSON.stringify(r.body)}`);
    t.equal(typeof r.body.error, 'string', `${what}: {"error": "..."}`);
    t.equal(r.body.field, field, `${what}: field`);
  }
  t.equal((await call('GET', `${PDNS}/zones/example.test.`)).body.serial, before, 'no failed PATCH changed the zone');

  const nameservers = await call('POST', `${PDNS}/zones`, { name: 'new.test.', nameservers: ['ns1.new.test.', 'ns2..new.test.'] });
  t.match([nameservers.status, nameservers.body], [422, { code: 'invalid_rrset', field: 'nameservers.1' }]);
  const name = await call('POST', `${PDNS}/zones`, { name: 'a..b.' });
  t.match([name.status, name.body], [400, { code: 'bad_request', field: 'name' }]);
});

t.test('PowerDNS: what its clients match on is unchanged, byte for byte', async (t) => {
  const raw = async (method: 'GET' | 'PATCH' | 'DELETE' | 'POST', url: string, payload?: string) => {
    const r = await node.node.api.app.inject({ method, url, headers: { 'x-api-key': node.adminKey }, ...(payload !== undefined ? { payload } : {}) });
    return [r.statusCode, r.body];
  };
  const notFound = `{"error":"Could not find domain 'nope.test.'","code":"zone_not_found","field":"zone_id"}`;
  t.same(await raw('GET', `${PDNS}/zones/nope.test.`), [404, notFound], 'GET');
  t.same(await raw('PATCH', `${PDNS}/zones/nope.test.`, '{"rrsets":[]}'), [404, notFound], 'PATCH');
  t.same(await raw('DELETE', `${PDNS}/zones/nope.test.`), [404, notFound], 'DELETE');
  t.same(await raw('POST', `${PDNS}/zones`, '{"name":"example.test.","kind":"Native","nameservers":["ns1.example.test."]}'), [409, `{"error":"Domain 'example.test.' already exists","code":"zone_exists","field":"name"}`]);
  t.same(await raw('PATCH', `${PDNS}/zones/example.test.`, '{"rrsets": ['), [400, '{"error":"the body is not valid JSON","code":"bad_request","field":"body"}']);
  t.same(await raw('GET', `${PDNS}/zones/example.test.`.replace('localhost', 'other')), [404, `{"error":{"code":"not_found","message":"no route GET /api/v1/servers/other/zones/example.test."}}`], 'an unknown route is the REST API\'s 404');
  const unauthorized = await node.api('GET', `${PDNS}/zones`, { key: null });
  t.equal(unauthorized.status, 401);
  t.match(unauthorized.body, { error: String, code: 'unauthorized', field: 'authorization' });
});

t.test('a body that is not what its content type says names the body; a wrong content type names the header', async (t) => {
  const rows: [what: string, method: string, url: string, contentType: string, payload: string, status: number, field: string][] = [
    ['broken JSON to a key route', 'POST', '/v1/keys', 'application/json', '{"scope": ', 400, 'body'],
    ['broken JSON to an RRset', 'PUT', '/v1/zones/example.test/rrsets/x/A', 'application/json', '{ttl: 60}', 400, 'body'],
    ['an empty JSON body', 'POST', '/v1/keys', 'application/json', '', 400, 'body'],
    ['a JSON body that is not an object', 'POST', '/v1/keys', 'application/json', '"admin"', 400, 'body'],
    ['a content type the route does not take', 'POST', '/v1/keys', 'application/x-www-form-urlencoded', 'scope=admin', 415, 'content-type'],
  ];
  for (const [what, method, url, contentType, payload, status, field] of rows) {
    const response = await node.api(method, url, { headers: { 'content-type': contentType }, body: payload });
    t.equal(response.status, status, `${what}: ${status}`);
    t.equal(response.body?.error?.field, field, `${what}: names ${field} (${JSON.stringify(response.body)})`);
  }
});
