// acme-dns compatibility, spoken exactly as acme-dns clients do (lego's goacmedns, certbot's acme-dns-auth.py):
// register, point _acme-challenge at the registration with a CNAME, update with X-Api-User/X-Api-Key, and the
// value is answered through the CNAME. Values expire instead of being limited to two.

import t from 'tap';
import path from 'node:path';
import { dig } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';

const FIXTURES = path.resolve('test/fixtures/api');
const ZONES = [path.join(FIXTURES, 'example.test.zone'), path.join(FIXTURES, 'other.test.zone')];
const value = (i: number): string => `acmedns${i}-${'y'.repeat(36)}`;

t.test('acme-dns: register, update three values, answered through the CNAME', async (t) => {
  const node = await startTestNode({ zoneFiles: ZONES, flags: { 'acme-dns-domain': 'auth.example.test' } });
  t.teardown(() => node.close());
  const admin = node.adminKey;

  t.equal((await node.api('GET', '/health', { key: null })).status, 200, '/health');
  t.equal((await node.api('POST', '/register', { key: null, body: {} })).status, 401, 'registering needs a key');
  const reg = await node.api('POST', '/register', { key: admin, body: { allowfrom: [] } });
  t.equal(reg.status, 201);
  const account = reg.body as { username: string; password: string; fulldomain: string; subdomain: string };
  t.match(account.fulldomain, /^[0-9a-f-]{36}\.auth\.example\.test$/);

  const cname = await node.api('PUT', '/v1/zones/example.test/rrsets/_acme-challenge.www/CNAME', { key: admin, body: { ttl: 60, records: [account.fulldomain + '.'] } });
  t.equal(cname.status, 201);

  const creds = { 'x-api-user': account.username, 'x-api-key': account.password };
  for (let i = 0; i < 3; i++) {
    const update = await node.api('POST', '/update', { key: null, headers: creds, body: { subdomain: account.subdomain, txt: value(i) } });
    t.equal(update.status, 200, JSON.stringify(update.body));
    t.same(update.body, { txt: value(i) });
  }
  const answer = await dig(node.dnsPort, '_acme-challenge.www.example.test', 'TXT');
  t.equal(answer.rcode, 'NOERROR');
  t.ok(answer.answer.some((rr) => rr.type === 'CNAME'), 'the CNAME is in the answer');
  t.same(answer.answer.filter((rr) => rr.type === 'TXT').map((rr) => rr.data.replace(/"/g, '')).sort(), [value(0), value(1), value(2)], 'all three values, not just the last two');

  const wrongPassword = await node.api('POST', '/update', { key: null, headers: { ...creds, 'x-api-key': 'nope' }, body: { subdomain: account.subdomain, txt: value(9) } });
  t.equal(wrongPassword.status, 401);
  const otherSubdomain = await node.api('POST', '/update', { key: null, headers: creds, body: { subdomain: 'someone-else', txt: value(9) } });
  t.equal(otherSubdomain.status, 403, 'a registration writes only its own name');
  const badTxt = await node.api('POST', '/update', { key: null, headers: creds, body: { subdomain: account.subdomain, txt: 'with space' } });
  t.equal(badTxt.status, 422);
  t.equal(badTxt.body.error.field, 'txt');
});

t.test('acme-dns: without --acme-dns-domain, /register says how to enable it', async (t) => {
  const node = await startTestNode({ zoneFiles: ZONES });
  t.teardown(() => node.close());
  const admin = node.adminKey;
  const reg = await node.api('POST', '/register', { key: admin, body: {} });
  t.equal(reg.status, 404);
  t.match(reg.body.error.message, /--acme-dns-domain/);
});
