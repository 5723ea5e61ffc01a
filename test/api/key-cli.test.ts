// What an operator does with keys from the shell: create (secret printed once), list, revoke; and the OpenAPI
// document and docs page describe the routes. `key create` runs as the real binary (the secret alone on stdout, the
// note on stderr); the other commands run in-process (runCommand).

import t from 'tap';
import path from 'node:path';
import { ApiRequestError } from '../../src/cli/api-client.js';
import { UsageError } from '../../src/cli/args.js';
import { runCommand } from '../helpers/cli.js';
import { startTestNode } from '../helpers/node.js';
import { runCli } from '../helpers/spawn-edgedns.js';

const FIXTURES = path.resolve('test/fixtures/api');

t.test('edgedns key create, list, revoke', async (t) => {
  const node = await startTestNode({ zoneFiles: [path.join(FIXTURES, 'example.test.zone'), path.join(FIXTURES, 'other.test.zone')], logLevel: 'info' });
  t.teardown(() => node.close());
  const env = { EDGEDNS_API: `127.0.0.1:${node.apiPort}`, EDGEDNS_DATA: node.dataDir, EDGEDNS_API_KEY: '' };

  const created = await runCli(['key', 'create', '--scope', 'zone:example.test', '--name', 'ci', '--expires', '30d'], env);
  t.equal(created.code, 0, created.stderr);
  const secret = created.stdout.trim();
  t.match(secret, /^edg_[A-Za-z0-9_-]{20,}$/, 'stdout is exactly the secret');
  t.match(created.stderr, /shown only once/);
  t.equal((await node.api('GET', '/v1/zones/example.test/rrsets', { key: secret })).status, 200, 'the new key works');

  const list = await runCommand(['key', 'list'], env);
  t.match(list.stdout, /zone:example\.test\s+active\s+.*\s+ci\n/);
  t.match(list.stdout, /admin\s+active/);
  t.notMatch(list.stdout, new RegExp(secret), 'no secret in the list');
  const id = /^(k[0-9a-f]{12})\s+zone:example\.test/m.exec(list.stdout)?.[1] as string;

  const revoked = await runCommand(['key', 'revoke', id], env);
  t.error(revoked.error);
  t.match(revoked.stdout, /revoked k[0-9a-f]{12} "ci"/);
  t.equal((await node.api('GET', '/v1/zones/example.test/rrsets', { key: secret })).status, 401);
  t.match((await runCommand(['key', 'list'], env)).stdout, /zone:example\.test\s+revoked/);

  const audits = node
    .logs()
    .split('\n')
    .filter((l) => l.includes('"audit":true'))
    .map((l) => JSON.parse(l) as { action: string; key: string; scope: string; keyScope?: string });
  t.ok(audits.some((a) => a.action === 'key.create' && /bootstrap/.test(a.key) && a.scope === 'admin' && a.keyScope === 'zone:example.test'), 'an audit line names who created which key');
  t.ok(audits.some((a) => a.action === 'key.revoke'), 'and who revoked it');

  const bad = await runCommand(['key', 'create', '--scope', 'root'], env);
  t.type(bad.error, ApiRequestError);
  t.match(bad.error?.message, /scope "root" is not admin, zone:NAME, acme:NAME or site:HOST/);
  t.type((await runCommand(['key', 'create'], env)).error, UsageError, 'a missing --scope is a usage error');
  for (const family of ['key', 'acme']) {
    const help = await runCommand([family, '--help'], env);
    t.error(help.error, `${family} --help`);
    t.match(help.stdout, /Usage/);
  }

  const doc = await node.api('GET', '/v1/openapi.json', { key: null });
  t.equal(doc.body.openapi, '3.1.0');
  for (const p of ['/v1/zones/{zone}/rrsets/{name}/{type}', '/v1/keys', '/v1/acme/challenges', '/api/v1/servers/localhost/zones/{id}']) t.ok(doc.body.paths[p], `${p} documented`);
  t.ok(doc.body.paths['/v1/zones/{zone}/rrsets/{name}/{type}'].put.requestBody, 'PUT has its body schema');
  const page = await node.api('GET', '/v1/docs', { key: null });
  t.match(page.body, /<h1>edgedns API<\/h1>/);
});
