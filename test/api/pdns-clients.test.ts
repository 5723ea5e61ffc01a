// The PowerDNS API as four real clients call it: each client's request sequence, read from its source
// (test/fixtures/pdns-clients/*.ts cite the files), replayed in-process. Every status must be the one the client
// goes on with, every field it reads must be there in the form it parses, and the zone must end as the client
// meant, with the pool (LUA) RRsets it did not touch intact and the ones it wrote back unchanged. Each client that
// changes the zone gets a node of its own, started from the fixture as a fresh server would be; the tests that only
// read share one.

import t, { type Test } from 'tap';
import path from 'node:path';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { readProblem, valuesAt, type ClientReplay, type ReplayResponse } from '../fixtures/pdns-clients/replay.js';
import { octodns, octodnsLuaRoundTrip } from '../fixtures/pdns-clients/octodns.js';
import { dnscontrol } from '../fixtures/pdns-clients/dnscontrol.js';
import { lexicon } from '../fixtures/pdns-clients/lexicon.js';
import { externalDns } from '../fixtures/pdns-clients/external-dns.js';

const ZONE = path.resolve('test/fixtures/pdns-clients/clients.test.zone');
const BASE = '/api/v1/servers/localhost';

/** A node serving the fixture zone, stopped when `t` ends. */
async function clientsNode(t: Test): Promise<TestNode> {
  const node = await startTestNode({ zoneFiles: [ZONE], flags: { geoip: 'none', 'acme-directory': 'none' } });
  t.teardown(() => node.close());
  return node;
}

/** The node of the tests that only read: its zone stays as the fixture has it. */
const shared = await clientsNode(t);

interface View {
  name: string;
  type: string;
  ttl: number;
  records: { content: string }[];
}

async function replay(t: Test, node: TestNode, replayed: ClientReplay): Promise<ReplayResponse[]> {
  let key = node.adminKey;
  if (replayed.scope) key = (await node.api('POST', '/v1/keys', { body: { scope: replayed.scope } })).body.secret;
  const responses: ReplayResponse[] = [];
  for (const [i, step] of replayed.steps.entries()) {
    const body = step.bodyFrom ? step.bodyFrom(responses) : step.body;
    const headers: Record<string, string> = { 'x-api-key': key };
    if (body !== undefined && step.contentType !== null) headers['content-type'] = step.contentType ?? 'application/json';
    const response = await node.node.api.app.inject({ method: step.method, url: step.path, query: step.query, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
    const parsed: unknown = response.body === '' ? undefined : JSON.parse(response.body);
    responses.push({ status: response.statusCode, body: parsed });
    t.equal(response.statusCode, step.status, `${i + 1}. ${step.does}: ${step.method} ${step.path} → ${step.status} ${response.statusCode === step.status ? '' : response.body}`);
    for (const read of step.reads ?? []) {
      const values = valuesAt(parsed, read.path);
      const problems = values.map((v) => readProblem(v, read)).filter((p) => p !== undefined);
      t.same(problems, [], `${i + 1}. reads ${read.path || 'the body'} (${values.length} values) as ${read.why}`);
    }
  }
  return responses;
}

async function rrsets(node: TestNode, zone = 'clients.test.'): Promise<View[]> {
  return (await node.api('GET', `${BASE}/zones/${zone}`)).body.rrsets;
}

function find(views: View[], name: string, type: string): View | undefined {
  return views.find((r) => r.name === name && r.type === type);
}

function contents(view: View | undefined): string[] {
  return view?.records.map((r) => r.content).sort() ?? [];
}

t.test('pool RRsets read as one LUA RRset per name, in the form each client parses back', async (t) => {
  const node = shared;
  const views = await rrsets(node);
  t.same(find(views, 'geo.clients.test.', 'LUA'), { name: 'geo.clients.test.', type: 'LUA', ttl: 60, records: [{ content: `A "pool('web')"`, disabled: false }, { content: `AAAA "pool('web')"`, disabled: false }], comments: [] });
  t.same(contents(find(views, 'v4.clients.test.', 'LUA')), [`A "pool('eu')"`]);
  t.notOk(views.some((r) => r.records.length === 0), 'no RRset comes out empty (as pools did before)');
  t.notOk(find(views, 'geo.clients.test.', 'A'), 'a pool is not also an A RRset');
  for (const content of contents(find(views, 'geo.clients.test.', 'LUA'))) t.equal(octodnsLuaRoundTrip(content), content, `octoDNS writes ${content} back unchanged`);
});

t.test('octodns-powerdns: sync an existing zone (LUA round trip), then create a zone', async (t) => {
  const node = await clientsNode(t);
  const responses = await replay(t, node, octodns);
  const version = (responses[0]?.body as { version: string }).version;
  t.same(version.split('.').slice(0, 3).map((p) => Number.parseInt(p.split('-')[0] as string, 10)).every(Number.isInteger), true, `version ${version} parses as integers`);
  const views = await rrsets(node);
  t.same(contents(find(views, 'geo.clients.test.', 'LUA')), [`A "pool('web')"`, `AAAA "pool('web')"`], 'the LUA RRset read back and written again is the same pool');
  t.equal(find(views, 'geo.clients.test.', 'LUA')?.ttl, 30, 'with the TTL octoDNS changed');
  t.same(contents(find(views, 'v4.clients.test.', 'LUA')), [`A "pool('eu')"`], 'the pool octoDNS did not touch is intact');
  t.notOk(find(views, 'old.clients.test.', 'TXT'), 'DELETE applied');
  t.same(contents(find(views, 'new.clients.test.', 'A')), ['192.0.2.7', '192.0.2.8']);
  t.same(contents(find(views, 'mail.clients.test.', 'MX')), ['10 mx.clients.test.']);
  const fresh = await rrsets(node, 'fresh.test.');
  t.same(contents(find(fresh, 'www.fresh.test.', 'LUA')), [`A "pool('web')"`], 'a created zone keeps its LUA record');
  t.ok(find(fresh, 'fresh.test.', 'SOA'), 'and gets an SOA');
});

t.test('dnscontrol: push corrections one PATCH each, DNSSEC check, create a zone', async (t) => {
  const node = await clientsNode(t);
  await replay(t, node, dnscontrol);
  const views = await rrsets(node);
  t.same(contents(find(views, 'api.clients.test.', 'A')), ['192.0.2.10']);
  t.notOk(find(views, 'old.clients.test.', 'TXT'), 'a DELETE with "records": null and ttl 0 deletes');
  t.same(contents(find(views, 'lb.clients.test.', 'LUA')), [`A "pool('web')"`], 'LUA() sets a pool');
  t.same(contents(find(views, 'geo.clients.test.', 'LUA')), [`A "pool('web')"`, `AAAA "pool('web')"`], 'untouched pools are intact');
  t.same(contents(find(await rrsets(node, 'made.test.'), 'made.test.', 'NS')), ['ns1.clients.test.', 'ns2.clients.test.'], 'the created zone has the default NS');
});

t.test('lexicon: create, add, delete one value, create a LUA record, delete an RRset', async (t) => {
  const node = await clientsNode(t);
  await replay(t, node, lexicon);
  const views = await rrsets(node);
  t.same(contents(find(views, '_acme-challenge.clients.test.', 'TXT')), ['"two"'], 'one value deleted by content, the other kept');
  t.same(contents(find(views, 'geo2.clients.test.', 'LUA')), [`A "pool('eu')"`], 'a LUA record created through lexicon is a pool');
  t.notOk(find(views, 'www.clients.test.', 'A'), 'the RRset lexicon deleted is gone');
  t.same(contents(find(views, 'geo.clients.test.', 'LUA')), [`A "pool('web')"`, `AAAA "pool('web')"`], 'pools intact');
});

t.test('external-dns: create and delete a Service\'s records with a zone: key', async (t) => {
  const node = await clientsNode(t);
  const responses = await replay(t, node, externalDns);
  t.ok((responses[0]?.body as { serial: number }[]).every((z) => z.serial < 2 ** 31), 'serials fit pgo.Zone.Serial (int32)');
  const views = await rrsets(node);
  t.notOk(find(views, 'app.clients.test.', 'A'), 'created then deleted');
  t.notOk(find(views, 'a-app.clients.test.', 'TXT'));
  t.same(contents(find(views, 'geo.clients.test.', 'LUA')), [`A "pool('web')"`, `AAAA "pool('web')"`], 'pools intact');
});

t.test('PATCH keeps A and LUA apart as PowerDNS does, and is all or nothing', async (t) => {
  const node = await clientsNode(t);
  const patch = (rrsets: unknown[]) => node.api('PATCH', `${BASE}/zones/clients.test.`, { body: { rrsets } });
  const lua = (name: string, ...records: string[]) => ({ name, type: 'LUA', ttl: 60, changetype: 'REPLACE', records: records.map((content) => ({ content, disabled: false })) });

  t.equal((await patch([{ name: 'geo.clients.test.', type: 'A', changetype: 'DELETE' }])).status, 204, 'DELETE of A where a pool answers');
  t.same(contents(find(await rrsets(node), 'geo.clients.test.', 'LUA')), [`A "pool('web')"`, `AAAA "pool('web')"`], 'leaves the LUA RRset alone');

  const clash = await patch([{ name: 'geo.clients.test.', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '192.0.2.9' }] }]);
  t.equal(clash.status, 422, 'A records where a pool answers');
  t.equal(clash.body.field, 'rrsets.0.type');
  t.match(clash.body.error, /pool web .*delete the LUA RRset first/);

  const swap = await patch([
    { name: 'geo.clients.test.', type: 'LUA', changetype: 'DELETE' },
    { name: 'geo.clients.test.', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '192.0.2.9' }] },
  ]);
  t.equal(swap.status, 204, 'DELETE LUA then REPLACE A, in one PATCH');
  let views = await rrsets(node);
  t.same(contents(find(views, 'geo.clients.test.', 'A')), ['192.0.2.9']);
  t.notOk(find(views, 'geo.clients.test.', 'LUA'));

  t.equal((await patch([lua('v4.clients.test.', `AAAA "pool('web')"`)])).status, 204, 'REPLACE LUA with only AAAA');
  t.same(contents(find(await rrsets(node), 'v4.clients.test.', 'LUA')), [`AAAA "pool('web')"`], 'the A pool is gone, AAAA set');

  const serial = (await node.api('GET', `${BASE}/zones/clients.test.`)).body.serial;
  for (const [what, rrsets, field, message] of [
    ['a Lua script', [lua('x.clients.test.', `A "ifportup(443, {'192.0.2.1'})"`)], 'rrsets.0.records.0.content', /runs no Lua/],
    ['two A pools', [lua('x.clients.test.', `A "pool('a')"`, `A "pool('b')"`)], 'rrsets.0.records.1.content', /one pool per type/],
    ['a TXT LUA', [lua('x.clients.test.', `TXT "pool('a')"`)], 'rrsets.0.records.0.content', /only A and AAAA/],
    ['a bad pool name', [lua('x.clients.test.', `A "pool('Web')"`)], 'rrsets.0.records.0.content', /pool name "Web"/],
    ['unquoted script', [lua('x.clients.test.', `A pool('web')`)], 'rrsets.0.records.0.content', /one quoted string/],
    ['LUA over records', [lua('www.clients.test.', `A "pool('web')"`)], 'rrsets.0.records.0.content', /has A records/],
    ['a good change before a bad one', [{ name: 'ok.clients.test.', type: 'A', ttl: 60, changetype: 'REPLACE', records: [{ content: '192.0.2.1' }] }, lua('y.clients.test.', 'A "x"')], 'rrsets.1.records.0.content', /runs no Lua/],
  ] as const) {
    const r = await patch([...rrsets]);
    t.equal(r.status, 422, `${what}: 422`);
    t.equal(r.body.field, field, `${what}: field`);
    t.match(r.body.error, message, `${what}: message`);
  }
  views = await rrsets(node);
  t.equal((await node.api('GET', `${BASE}/zones/clients.test.`)).body.serial, serial, 'no refused PATCH changed the serial');
  t.notOk(find(views, 'ok.clients.test.', 'A'), 'nor wrote its good part');
});

t.test('zone GET filters, export, cryptokeys, metadata, statistics, search-data', async (t) => {
  const node = shared;
  const zone = `${BASE}/zones/clients.test.`;

  t.same((await node.api('GET', `${zone}?rrset_name=www.clients.test.`)).body.rrsets.map((r: View) => `${r.name} ${r.type}`), ['www.clients.test. A'], 'rrset_name');
  t.same((await node.api('GET', `${zone}?rrset_name=geo.clients.test.&rrset_type=LUA`)).body.rrsets.map((r: View) => r.type), ['LUA'], 'rrset_name and rrset_type');
  t.same((await node.api('GET', `${zone}?rrset_name=clients.test.&rrset_type=ns`)).body.rrsets.map((r: View) => contents(r)), [['ns1.clients.test.', 'ns2.clients.test.']], 'type in any case');
  t.same((await node.api('GET', `${zone}?rrset_name=nothing.clients.test.`)).body.rrsets, [], 'no such name: no rrsets');
  const bare = await node.api('GET', `${zone}?rrsets=false`);
  t.equal(bare.body.rrsets, undefined, 'rrsets=false leaves them out');
  t.equal(bare.body.serial, 2024010101);
  const typeAlone = await node.api('GET', `${zone}?rrset_type=A`);
  t.equal(typeAlone.status, 400, 'rrset_type needs rrset_name');
  t.equal(typeAlone.body.field, 'rrset_type');

  const exported = await node.api('GET', `${zone}/export`);
  t.equal(exported.status, 200);
  t.match(exported.headers.get('content-type'), /^text\/plain/);
  t.match(exported.body, /^\$ORIGIN clients\.test\.$/m, 'BIND text');
  t.match(exported.body, /^www\s+300 IN A\s+192\.0\.2\.1$/m);
  t.match(exported.body, /^geo\s+60 IN POOL\s+web$/m, 'pools in edgedns zone-file form');

  t.same((await node.api('GET', `${zone}/cryptokeys`)).body, [], 'no cryptokeys');
  t.equal((await node.api('GET', `${BASE}/zones/nope.test./cryptokeys`)).status, 404, 'cryptokeys of no zone: 404');
  t.equal((await node.api('GET', `${zone}/cryptokeys/1`)).status, 404);
  const sign = await node.api('POST', `${zone}/cryptokeys`, { body: { keytype: 'csk', active: true } });
  t.equal(sign.status, 422);
  t.equal(sign.body.code, 'not_supported');
  t.same((await node.api('GET', `${zone}/metadata`)).body, []);
  t.same((await node.api('GET', `${zone}/metadata/SOA-EDIT-API`)).body, { type: 'Metadata', kind: 'SOA-EDIT-API', metadata: [] });
  t.equal((await node.api('PUT', `${zone}/metadata/ALLOW-AXFR-FROM`, { body: { metadata: ['AUTO-NS'] } })).body.code, 'not_supported');

  const stats = await node.api('GET', `${BASE}/statistics`);
  t.same(stats.body.map((s: { name: string }) => s.name), ['servfail-packets', 'tcp-queries', 'udp-queries', 'uptime']);
  t.ok(stats.body.every((s: { type: string; value: string }) => s.type === 'StatisticItem' && /^\d+$/.test(s.value)), 'PowerDNS StatisticItems with numeric values');
  t.same((await node.api('GET', `${BASE}/statistics?statistic=uptime`)).body.map((s: { name: string }) => s.name), ['uptime']);
  t.equal((await node.api('GET', `${BASE}/statistics?statistic=nope`)).status, 422, 'unknown statistic: 422 as PowerDNS');

  const search = (q: string, extra = '') => node.api('GET', `${BASE}/search-data?q=${encodeURIComponent(q)}${extra}`);
  t.same((await search('www.clients.test.')).body, [{ object_type: 'record', name: 'www.clients.test.', type: 'A', ttl: 300, content: '192.0.2.1', disabled: false, zone: 'clients.test.', zone_id: 'clients.test.' }]);
  t.same((await search('192.0.2.5*')).body.map((h: { name: string }) => h.name).sort(), ['ns1.clients.test.', 'ns2.clients.test.'], 'wildcards, on content');
  t.same((await search('CLIENTS.test.', '&object_type=zone')).body, [{ object_type: 'zone', name: 'clients.test.', zone_id: 'clients.test.' }], 'zones, case-insensitive');
  t.equal((await search('*', '&max=3')).body.length, 3, 'max');
  t.same((await search('*pool*')).body.map((h: { name: string; type: string }) => `${h.name} ${h.type}`).sort(), ['geo.clients.test. LUA', 'geo.clients.test. LUA', 'v4.clients.test. LUA'], 'pools found as LUA content');
  t.equal((await node.api('GET', `${BASE}/search-data`)).status, 400, 'q is required');
});

t.test('server object and scopes of the new routes', async (t) => {
  const node = shared;
  const server = (await node.api('GET', BASE)).body;
  t.match(server, { type: 'Server', id: 'localhost', daemon_type: 'authoritative', version: /^\d+\.\d+\.\d+$/ });
  t.match(server.edgedns_version, /^\d+\.\d+\.\d+/, "edgedns's own version beside it");
  const acme = (await node.api('POST', '/v1/keys', { body: { scope: 'acme:clients.test' } })).body.secret;
  const asAcme = (url: string) => node.api('GET', url, { key: acme });
  t.equal((await asAcme(`${BASE}/zones/clients.test./export`)).status, 403, 'an acme: key cannot export the zone');
  t.equal((await asAcme(`${BASE}/zones/clients.test./cryptokeys`)).status, 403);
  t.same((await asAcme(`${BASE}/search-data?q=*`)).body, [], 'an acme: key finds nothing but its challenges');
});
