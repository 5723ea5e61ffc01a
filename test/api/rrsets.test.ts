// The RRset API: put/get/delete one RRset, validated like an import, the SOA serial moving on every write, 409 on
// a stale revision, nothing written on failure, and DNS answering what was written.

import t from 'tap';
import path from 'node:path';
import { dig } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';

const FIXTURES = path.resolve('test/fixtures/api');

t.test('RRsets: put, get, list, revisions, delete; DNS follows', async (t) => {
  const node = await startTestNode({ zoneFiles: [path.join(FIXTURES, 'example.test.zone')] });
  t.teardown(() => node.close());
  const api = (method: string, p: string, body?: unknown) => node.api(method, p, { body });

  const created = await api('PUT', '/v1/zones/example.test/rrsets/api/A', { ttl: 120, records: ['192.0.2.10', '192.0.2.11'] });
  t.equal(created.status, 201, JSON.stringify(created.body));
  t.same(created.body.records, ['192.0.2.10', '192.0.2.11']);
  t.equal(created.body.name, 'api.example.test.');
  t.ok(created.body.revision, 'a revision comes back');
  t.equal(created.body.served, true, 'served by this node when the call returns');
  t.equal(created.body.serial, 2, 'the SOA serial moved from 1 to 2');

  const answer = await dig(node.dnsPort, 'api.example.test', 'A');
  t.same(answer.answer.map((rr) => rr.data).sort(), ['192.0.2.10', '192.0.2.11']);
  const soa = await dig(node.dnsPort, 'example.test', 'SOA');
  t.match(soa.answer[0]?.data, / 2 3600 600 86400 60$/);

  const got = await api('GET', '/v1/zones/example.test./rrsets/api.example.test./a');
  t.equal(got.status, 200);
  t.equal(got.body.revision, created.body.revision);

  const list = await api('GET', '/v1/zones/example.test/rrsets');
  t.ok(list.body.rrsets.some((r: { name: string; type: string }) => r.name === 'api.example.test.' && r.type === 'A'));

  const updated = await api('PUT', '/v1/zones/example.test/rrsets/api/A', { ttl: 60, records: ['192.0.2.12'], revision: created.body.revision });
  t.equal(updated.status, 200, 'replacing at the revision read works');
  const stale = await api('PUT', '/v1/zones/example.test/rrsets/api/A', { ttl: 60, records: ['192.0.2.13'], revision: created.body.revision });
  t.equal(stale.status, 409, 'a stale revision is refused');
  t.equal(stale.body.error.code, 'revision_mismatch');
  t.equal(stale.body.error.field, 'revision');
  const mustBeNew = await api('PUT', '/v1/zones/example.test/rrsets/api/A', { ttl: 60, records: ['192.0.2.13'], revision: null });
  t.equal(mustBeNew.status, 409, 'revision null means "create only"');

  const apex = await api('PUT', '/v1/zones/example.test/rrsets/@/MX', { ttl: 300, records: ['10 mail'] });
  t.equal(apex.status, 201);
  t.same(apex.body.records, ['10 mail.example.test.'], 'relative names in rdata are completed with the zone');

  const del = await api('DELETE', '/v1/zones/example.test/rrsets/api/A');
  t.equal(del.status, 204);
  t.equal((await dig(node.dnsPort, 'api.example.test', 'A')).rcode, 'NXDOMAIN');
  t.equal((await api('DELETE', '/v1/zones/example.test/rrsets/api/A')).body.error.code, 'rrset_not_found');
});

t.test('RRsets: every validation error names the field and writes nothing', async (t) => {
  const node = await startTestNode({ zoneFiles: [path.join(FIXTURES, 'example.test.zone')] });
  t.teardown(() => node.close());
  const api = (method: string, p: string, body?: unknown) => node.api(method, p, { body });
  const serialBefore = (await api('GET', '/v1/zones/example.test/rrsets')).body.serial;

  const cases: [string, string, unknown, number, string, string | undefined][] = [
    ['bad address', '/v1/zones/example.test/rrsets/x/A', { ttl: 60, records: ['300.1.1.1'] }, 422, 'invalid_rrset', 'records.0'],
    ['missing ttl', '/v1/zones/example.test/rrsets/x/A', { records: ['192.0.2.1'] }, 400, 'bad_request', 'ttl'],
    ['negative ttl', '/v1/zones/example.test/rrsets/x/A', { ttl: -1, records: ['192.0.2.1'] }, 400, 'bad_request', 'ttl'],
    ['no records', '/v1/zones/example.test/rrsets/x/A', { ttl: 60, records: [] }, 422, 'invalid_rrset', 'records'],
    ['unknown type', '/v1/zones/example.test/rrsets/x/BOGUS', { ttl: 60, records: ['1'] }, 400, 'bad_request', 'type'],
    ['outside the zone', '/v1/zones/example.test/rrsets/www.example.org./A', { ttl: 60, records: ['192.0.2.1'] }, 422, 'invalid_rrset', 'name'],
    ['CNAME beside other data', '/v1/zones/example.test/rrsets/www/CNAME', { ttl: 60, records: ['alias'] }, 422, 'invalid_zone', 'records'],
    ['A beside a CNAME', '/v1/zones/example.test/rrsets/alias/A', { ttl: 60, records: ['192.0.2.1'] }, 422, 'invalid_zone', 'records'],
    ['two SOA records', '/v1/zones/example.test/rrsets/@/SOA', { ttl: 60, records: ['a. b. 1 2 3 4 5', 'c. d. 1 2 3 4 5'] }, 422, 'invalid_rrset', 'records'],
    ['unknown zone', '/v1/zones/nope.test/rrsets/x/A', { ttl: 60, records: ['192.0.2.1'] }, 404, 'zone_not_found', 'zone'],
  ];
  for (const [what, p, body, status, code, field] of cases) {
    const r = await api('PUT', p, body);
    t.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    t.equal(r.body?.error?.code, code, `${what}: code`);
    if (field !== undefined) t.equal(r.body?.error?.field, field, `${what}: field`);
  }
  const after = await api('GET', '/v1/zones/example.test/rrsets');
  t.equal(after.body.serial, serialBefore, 'no failed request moved the serial');
  t.notOk(after.body.rrsets.some((r: { name: string }) => r.name === 'x.example.test.'), 'nothing was written');
  t.equal((await api('DELETE', '/v1/zones/example.test/rrsets/@/SOA')).status, 422, 'the SOA cannot be deleted');
});
