// The PowerDNS-compatible subset, as PowerDNS clients call it: discovery, zones, PATCH with changetype, notify.

import t from 'tap';
import path from 'node:path';
import { dig } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');
const BASE = '/api/v1/servers/localhost';

t.test('PowerDNS API subset', async (t) => {
  const node = await startTestNode({ zoneFiles: [ZONE] });
  t.teardown(() => node.close());
  const api = (method: string, p: string, body?: unknown, headers?: Record<string, string>) => node.api(method, p, { body, headers });

  t.same((await node.api('GET', '/api', { key: null })).body, [{ url: '/api/v1', version: 1 }], 'GET /api needs no key');
  t.equal((await node.api('GET', BASE, { key: null })).status, 401, 'the rest needs X-API-Key');
  t.equal((await api('GET', BASE)).body.daemon_type, 'authoritative');
  t.ok(Array.isArray((await api('GET', `${BASE}/config`)).body));

  const zones = await api('GET', `${BASE}/zones`);
  t.equal(zones.body[0].id, 'example.test.');
  t.equal(zones.body[0].url, `${BASE}/zones/example.test.`);
  t.equal(zones.body[0].kind, 'Native');

  for (const id of ['example.test.', 'example.test', 'Example.Test.']) {
    const z = await api('GET', `${BASE}/zones/${id}`);
    t.equal(z.status, 200, `zone id ${id}`);
    t.equal(z.body.name, 'example.test.');
  }
  const zone = (await api('GET', `${BASE}/zones/example.test.`)).body;
  const www = zone.rrsets.find((r: { name: string; type: string }) => r.name === 'www.example.test.' && r.type === 'A');
  t.same(www.records, [{ content: '192.0.2.1', disabled: false }]);

  const missing = await api('GET', `${BASE}/zones/nope.test.`);
  t.equal(missing.status, 404);
  t.match(missing.body.error, /nope\.test\./, 'the 404 names the zone');

  // What lego sends: kind and per-record fields beside the ones that matter, content quoted, lower-case changetype.
  const patch = await api('PATCH', `${BASE}/zones/example.test.`, {
    rrsets: [
      { name: '_acme-challenge.example.test.', type: 'TXT', kind: 'Master', ttl: 60, changetype: 'replace', records: [{ content: '"abc"', disabled: false, name: 'x', type: 'TXT', 'set-ptr': false }], comments: [] },
      { name: 'api.example.test.', type: 'A', ttl: 120, changetype: 'REPLACE', records: [{ content: '192.0.2.20', disabled: false }, { content: '192.0.2.21', disabled: true }] },
    ],
  });
  t.equal(patch.status, 204, JSON.stringify(patch.body));
  t.same((await dig(node.dnsPort, '_acme-challenge.example.test', 'TXT')).answer.map((rr) => rr.data), ['"abc"']);
  t.same((await dig(node.dnsPort, 'api.example.test', 'A')).answer.map((rr) => rr.data), ['192.0.2.20'], 'disabled records are not served');

  const noContentType = await node.node.api.app.inject({
    method: 'PATCH',
    url: `${BASE}/zones/example.test`,
    headers: { 'x-api-key': node.adminKey },
    payload: JSON.stringify({ rrsets: [{ name: 'api.example.test.', type: 'A', changetype: 'REPLACE', records: [] }] }),
  });
  t.notOk(noContentType.raw.req.headers['content-type'], 'sent without Content-Type');
  t.equal(noContentType.statusCode, 204, 'a body without Content-Type is read as JSON; REPLACE with no records empties');
  t.equal((await dig(node.dnsPort, 'api.example.test', 'A')).rcode, 'NXDOMAIN');

  const del = await api('PATCH', `${BASE}/zones/example.test.`, { rrsets: [{ name: '_acme-challenge.example.test.', type: 'TXT', changetype: 'Delete' }] });
  t.equal(del.status, 204);
  t.equal((await dig(node.dnsPort, '_acme-challenge.example.test', 'TXT')).rcode, 'NXDOMAIN');

  const serialBefore = (await api('GET', `${BASE}/zones/example.test.`)).body.serial;
  for (const [what, rrsets, field] of [
    ['relative name', [{ name: 'rel', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '192.0.2.1' }] }], 'rrsets.0.name'],
    ['bad address', [{ name: 'ok.example.test.', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '192.0.2.1' }] }, { name: 'b.example.test.', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '999.0.0.1' }] }], 'rrsets.1.records.0.content'],
    ['unknown changetype', [{ name: 'ok.example.test.', type: 'A', changetype: 'EXTEND', records: [] }], 'rrsets.0.changetype'],
    ['twice in one request', [{ name: 'ok.example.test.', type: 'A', changetype: 'DELETE' }, { name: 'ok.example.test.', type: 'A', changetype: 'DELETE' }], 'rrsets.1'],
    ['CNAME beside data', [{ name: 'www.example.test.', type: 'CNAME', ttl: 60, changetype: 'REPLACE', records: [{ content: 'alias.example.test.' }] }], 'rrsets'],
    ['outside the zone', [{ name: 'www.example.org.', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '192.0.2.1' }] }], 'rrsets.0.name'],
  ] as const) {
    const r = await api('PATCH', `${BASE}/zones/example.test.`, { rrsets });
    t.equal(r.status, 422, `${what}: ${JSON.stringify(r.body)}`);
    t.equal(typeof r.body.error, 'string', `${what}: PowerDNS error shape`);
    t.equal(r.body.field, field, `${what}: field`);
  }
  const after = (await api('GET', `${BASE}/zones/example.test.`)).body;
  t.equal(after.serial, serialBefore, 'no failed PATCH changed anything');
  t.notOk(after.rrsets.some((r: { name: string }) => r.name === 'ok.example.test.'), 'a PATCH is all or nothing');
  t.equal((await api('PATCH', `${BASE}/zones/nope.test.`, { rrsets: [] })).status, 404);

  t.same((await api('PUT', `${BASE}/zones/example.test./notify`)).body, { result: 'Notification queued' });

  const created = await api('POST', `${BASE}/zones`, { name: 'new.test.', kind: 'Native', nameservers: ['ns1.new.test.'], rrsets: [{ name: 'ns1.new.test.', type: 'A', ttl: 300, changetype: 'REPLACE', records: [{ content: '127.0.0.1' }] }] });
  t.equal(created.status, 201, JSON.stringify(created.body));
  t.equal((await dig(node.dnsPort, 'new.test', 'SOA')).rcode, 'NOERROR', 'a created zone is served');
  t.equal((await api('POST', `${BASE}/zones`, { name: 'new.test.', nameservers: ['ns1.new.test.'] })).status, 409);
  t.equal((await api('POST', `${BASE}/zones`, { name: 'new2.test' })).status, 422, 'zone name needs its trailing dot');

  const slash = await api('GET', `${BASE}/zones/0=2F26.2.0.192.in-addr.arpa.`);
  t.equal(slash.status, 404, '=2F decodes to "/"');
  t.match(slash.body.error, /0\/26\.2\.0\.192\.in-addr\.arpa\./);

  t.equal((await api('DELETE', `${BASE}/zones/new.test.`)).status, 204);
  t.equal((await dig(node.dnsPort, 'new.test', 'SOA')).rcode, 'REFUSED', 'a deleted zone is no longer served');
});
