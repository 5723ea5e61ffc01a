// TSIG keys through the API, like API keys: admin only, the secret once (as long as the hash), never listed, a
// revocation that stays; bad scopes, names and algorithms answered naming the field. The key formats the CLI
// prints are the ones knsupdate, nsupdate and JSON readers take.

import t from 'tap';
import path from 'node:path';
import { startTestNode } from '../helpers/node.js';
import { formatTsigKey } from '../../src/cli/tsig-commands.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');

t.test('create, list, revoke', async (t) => {
  const node = await startTestNode({ zoneFiles: [ZONE], flags: { geoip: 'none', 'acme-directory': 'none' } });
  t.teardown(() => node.close());
  const call = (method: string, url: string, body?: unknown) => node.api(method, url, { body });
  const created = await call('POST', '/v1/tsig-keys', { scope: 'acme:Example.Test', name: 'Certbot.Example.Test' });
  t.equal(created.status, 201);
  t.match(created.body, { name: 'certbot.example.test.', algorithm: 'hmac-sha256', scope: 'acme:example.test', revokedAt: null });
  t.equal(Buffer.from(created.body.secret, 'base64').length, 32, 'a 32-octet secret for HMAC-SHA256');
  const sha512 = await call('POST', '/v1/tsig-keys', { scope: 'zone:example.test', algorithm: 'HMAC-SHA512.' });
  t.equal(sha512.body.algorithm, 'hmac-sha512');
  t.equal(Buffer.from(sha512.body.secret, 'base64').length, 64);
  t.match(sha512.body.name, /^zone-[0-9a-f]{8}\.$/, 'a default name from the scope');

  const list = await call('GET', '/v1/tsig-keys');
  t.equal(list.body.keys.length, 2);
  t.notOk(JSON.stringify(list.body).includes(created.body.secret), 'the list never shows a secret');

  const again = await call('POST', '/v1/tsig-keys', { scope: 'zone:example.test', name: 'certbot.example.test.' });
  t.match(again, { status: 409, body: { error: { code: 'tsig_key_exists', field: 'name' } } }, 'names are unique');
  for (const [what, body, field] of [
    ['a site scope', { scope: 'site:blog.example.test' }, 'scope'],
    ['no such scope', { scope: 'zone' }, 'scope'],
    ['HMAC-MD5', { scope: 'admin', algorithm: 'hmac-md5' }, 'algorithm'],
    ['a name that is not one', { scope: 'admin', name: 'a..b' }, 'name'],
  ] as const) {
    const r = await call('POST', '/v1/tsig-keys', body);
    t.equal(r.status, 400, `${what}: 400`);
    t.equal(r.body.error.field, field, `${what}: names ${field}`);
  }

  const zoneKey = (await call('POST', '/v1/keys', { scope: 'zone:example.test' })).body.secret;
  const asZoneKey = await node.api('GET', '/v1/tsig-keys', { key: zoneKey });
  t.equal(asZoneKey.status, 403, 'only admin keys manage TSIG keys');

  const revoked = await call('DELETE', '/v1/tsig-keys/certbot.example.test');
  t.equal(revoked.status, 200);
  t.ok(revoked.body.revokedAt, 'revoked');
  t.ok((await call('GET', '/v1/tsig-keys')).body.keys.find((k: { name: string }) => k.name === 'certbot.example.test.').revokedAt, 'and stays listed as revoked');
  t.equal((await call('DELETE', '/v1/tsig-keys/nobody.example.test')).status, 404);
});

t.test('the forms edgedns tsig create prints', async (t) => {
  const key = { name: 'k.example.', algorithm: 'hmac-sha256', secret: 'c2VjcmV0', scope: 'acme:example.com', createdAt: '', revokedAt: null };
  t.equal(formatTsigKey(key, 'line'), 'hmac-sha256:k.example.:c2VjcmV0\n', 'knsupdate -y / nsupdate -y');
  t.equal(formatTsigKey(key, 'bind'), 'key "k.example." {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0";\n};\n', 'nsupdate -k');
  t.same(JSON.parse(formatTsigKey(key, 'json')), { name: 'k.example.', algorithm: 'hmac-sha256', scope: 'acme:example.com', secret: 'c2VjcmV0' });
});
