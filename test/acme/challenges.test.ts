// Challenge values: several coexist at one name, concurrent adds all survive, removal is per value, values expire
// on their own, and DNS serves them from the zone index with the short TTL.

import t from 'tap';
import path from 'node:path';
import { dig } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';
import { waitFor } from '../helpers/wait-for.js';
import { addChallenge, dropExpired } from '../../src/acme/challenges.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');
const value = (i: number): string => `v${String(i).padStart(2, '0')}-${'x'.repeat(40)}`;

async function txt(port: number, name: string): Promise<{ values: string[]; ttls: number[] }> {
  const r = await dig(port, name, 'TXT');
  return { values: r.answer.filter((rr) => rr.type === 'TXT').map((rr) => rr.data.replace(/^"|"$/g, '')).sort(), ttls: r.answer.map((rr) => rr.ttl) };
}

t.test('values are added and removed one at a time; concurrent adds all survive', async (t) => {
  const node = await startTestNode({ zoneFiles: [ZONE] });
  t.teardown(() => node.close());
  const api = (method: string, p: string, body?: unknown) => node.api(method, p, { body });

  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => api('POST', '/v1/acme/challenges', { domain: i % 2 ? '*.example.test' : 'example.test', value: value(i) })));
  t.same(results.map((r) => r.status), Array(8).fill(201), 'every concurrent add succeeded');
  t.equal(results[0]?.body.name, '_acme-challenge.example.test.');
  t.same(results[0]?.body.nameservers, [{ name: 'ns1.example.test.', addresses: ['127.0.0.1'] }, { name: 'ns2.example.test.', addresses: ['127.0.0.1'] }]);
  const served = await txt(node.dnsPort, '_acme-challenge.example.test');
  t.same(served.values, Array.from({ length: 8 }, (_, i) => value(i)), 'all eight values answered (no two-slot limit)');
  t.ok(served.ttls.every((ttl) => ttl === 60), 'served with the 60 s challenge TTL');

  const listed = await api('GET', '/v1/acme/challenges');
  t.equal(listed.body.challenges.length, 8);

  t.equal((await api('DELETE', '/v1/acme/challenges', { domain: 'example.test', value: value(3) })).status, 204);
  t.equal((await api('DELETE', '/v1/acme/challenges', { domain: 'example.test', value: value(3) })).status, 404, 'removing twice: 404 here (hooks use httpreq cleanup, which is idempotent)');
  t.equal((await txt(node.dnsPort, '_acme-challenge.example.test')).values.length, 7, 'one value gone, the others stay');

  const lego = await api('POST', '/v1/acme/httpreq/present', { fqdn: '_acme-challenge.www.example.test.', value: value(50) });
  t.equal(lego.status, 200);
  t.same((await txt(node.dnsPort, '_acme-challenge.www.example.test')).values, [value(50)]);
  t.equal((await api('POST', '/v1/acme/httpreq/cleanup', { fqdn: '_acme-challenge.www.example.test.', value: value(50) })).status, 200);
  t.equal((await api('POST', '/v1/acme/httpreq/cleanup', { fqdn: '_acme-challenge.www.example.test.', value: value(50) })).status, 200, 'cleanup twice is fine');
  t.equal((await dig(node.dnsPort, '_acme-challenge.www.example.test', 'TXT')).rcode, 'NXDOMAIN', 'the last value gone removes the RRset');

  for (const [body, status, code, field] of [
    [{ domain: 'example.test', value: 'has space' }, 422, 'invalid_challenge', 'value'],
    [{ domain: 'example.test', value: 'q"uote' }, 422, 'invalid_challenge', 'value'],
    [{ domain: 'example.test', value: 'x'.repeat(256) }, 400, 'bad_request', 'value'],
    [{ domain: 'example..test', value: 'abc' }, 422, 'invalid_challenge', 'domain'],
    [{ domain: 'nowhere.test', value: 'abc' }, 404, 'zone_not_found', 'domain'],
    [{ value: 'abc' }, 400, 'bad_request', 'domain'],
    [{ domain: 'alias.example.test', value: 'abc' }, 201, undefined, undefined],
  ] as const) {
    const r = await api('POST', '/v1/acme/challenges', body);
    t.equal(r.status, status, JSON.stringify(r.body));
    if (code) t.equal(r.body.error.code, code);
    if (field) t.equal(r.body.error.field, field);
  }
  const metrics = await node.api('GET', '/metrics', { key: null });
  t.match(metrics.body, /edgedns_acme_challenges_active 8/);
  t.match(metrics.body, /edgedns_acme_challenge_writes_total\{op="add",result="ok"\} 10/);
});

t.test('values expire on their own', async (t) => {
  const node = await startTestNode({ zoneFiles: [ZONE] });
  t.teardown(() => node.close());
  const settings = { ttl: 30, lifetimeMs: 1000 };
  const now = Date.now();
  await addChallenge(node.node.store, 'example.test.', '_acme-challenge.example.test.', 'old', settings, now - 5000);
  await addChallenge(node.node.store, 'example.test.', '_acme-challenge.example.test.', 'new', settings, now);
  // the later write already dropped the expired value; a sweep drops the rest once they expire
  const served = await waitFor(
    async () => {
      const { values } = await txt(node.dnsPort, '_acme-challenge.example.test');
      return values.join() === 'new' && values;
    },
    { what: 'the index to serve only the unexpired value', timeoutMs: 3000 },
  );
  t.same(served.value, ['new']);
  const swept = await dropExpired(node.node.store, 'example.test.', '_acme-challenge.example.test.', settings, now + 2000);
  t.ok(swept.changed);
  const gone = await waitFor(async () => (await dig(node.dnsPort, '_acme-challenge.example.test', 'TXT')).rcode === 'NXDOMAIN', { what: 'the swept name to be NXDOMAIN', timeoutMs: 3000 });
  t.ok(gone.value, `NXDOMAIN ${gone.ms} ms after the sweep`);
});
