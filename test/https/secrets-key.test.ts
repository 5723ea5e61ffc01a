// One node, no CA: bring-your-own certificate (edgedns cert import) served over HTTPS and HTTP/2, the per-site
// redirect and HSTS, `edgedns secrets rotate`, and then the node restarted with the wrong secrets key: it serves the
// site over HTTP, logs why it serves no certificate, and /healthz says "degraded".

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { connect } from 'node:tls';
import t from 'tap';
import { parseCommandLine } from '../../src/cli/args.js';
import { certCommand, CERT_OPTIONS, secretsCommand, SECRETS_OPTIONS } from '../../src/cli/cert-commands.js';
import { KEY_FILE_RECHECK_MS } from '../../src/secrets/cluster-secrets.js';
import { newKey, readKeyFile, writeKeyFile } from '../../src/secrets/key-file.js';
import { startTestNode } from '../helpers/node.js';
import { run } from '../helpers/pebble.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';
import { deployTree, get } from '../pages/pages-helpers.js';

const SITE = 'site.example.test';
const openssl = requireTool('openssl');
const curl = requireTool('curl');
const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-secrets-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const certFile = path.join(dir, 'cert.pem');
const certKeyFile = path.join(dir, 'key.pem');
execFileSync(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', certKeyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${SITE}`, '-addext', `subjectAltName=DNS:${SITE}`], { stdio: 'ignore' });
const certPem = await readFile(certFile, 'utf8');

const server = await startTestNode({ nodeId: 'secrets', logLevel: 'info', flags: { 'acme-directory': 'none' } });
t.teardown(() => server.close());
const { dataDir, adminKey } = server;
const keyFile = path.join(dataDir, 'secrets.key');

async function cli(command: typeof certCommand, options: typeof CERT_OPTIONS, name: string, ...argv: string[]): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  await command(parseCommandLine(name, [...argv, '--api', `127.0.0.1:${server.apiPort}`, '--data', dataDir], options), out);
  return text;
}

function httpsGet(pathname: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: server.node.pages.https?.port, servername: SITE, path: pathname, headers: { host: SITE }, ca: certPem, agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('an imported certificate is served by SNI, over HTTP/1.1 and HTTP/2, with the site\'s redirect and HSTS', async (t) => {
  t.equal((await deployTree(server, SITE, { 'index.html': 'hello' })).result.status, 201);
  t.match(await cli(certCommand, CERT_OPTIONS, 'cert', 'import', SITE, '--cert', certFile, '--key', certKeyFile), new RegExp(`^${SITE}: imported certificate \\w+, valid until`));
  t.equal((await httpsGet('/')).body, 'hello', 'HTTPS serves the site with the imported certificate');
  const port = server.node.pages.https?.port as number;
  const h2 = await run(curl, ['-sS', '--http2', '--cacert', certFile, '--resolve', `${SITE}:${port}:127.0.0.1`, '-o', '/dev/null', '-w', '%{http_version}', `https://${SITE}:${port}/`], { timeoutMs: 5000 });
  t.equal(h2.output, '2', 'curl negotiates HTTP/2');
  // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's.
  const tls11 = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: SITE, ca: certPem, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => resolve('connected'));
    socket.on('error', (err) => resolve(err.message));
  });
  t.match(tls11, /protocol version/, 'a TLS 1.1 client gets a protocol_version alert');

  const set = await server.api('PUT', `/v1/sites/${SITE}`, { body: { httpsRedirect: true, hstsMaxAge: 600 } });
  t.same(set.body.https, { redirect: true, hstsMaxAge: 600 });
  const plain = await get(server.node.pages.port, SITE, '/about?x=1');
  t.equal(plain.status, 308);
  t.equal(plain.headers.location, `https://${SITE}:${port}/about?x=1`, 'plain HTTP is sent to HTTPS');
  t.equal((await httpsGet('/')).headers['strict-transport-security'], 'max-age=600');
  t.equal((await get(server.node.pages.port, SITE, '/healthz')).status, 200, '/healthz is never redirected');
  t.match(await cli(certCommand, CERT_OPTIONS, 'cert', 'list'), new RegExp(`${SITE.replace(/\./g, '\\.')}\\s+import\\s+\\d{4}-\\d\\d-\\d\\d\\s+-\\s+yes`));
});

t.test('secrets rotate seals the key again under a new cluster key, and the certificate is still served', async (t) => {
  const before = (await server.node.store.get(`cert/${SITE}`))?.secret as { kid: string };
  const out = await cli(secretsCommand, SECRETS_OPTIONS, 'secrets', 'rotate');
  t.match(out, /replaced by \w+; 1 private key\(s\) sealed again/);
  const after = (await server.node.store.get(`cert/${SITE}`))?.secret as { kid: string };
  t.not(after.kid, before.kid, 'sealed under the new key');
  t.same((await readKeyFile(keyFile))?.map((k) => k.kid), [after.kid, before.kid], 'the file holds the new key first, the old one after');
  t.equal((await httpsGet('/')).body, 'hello');
});

t.test('restarted with the wrong secrets key, the node serves HTTP, says why, and /healthz says degraded', async (t) => {
  await server.stop();
  const rightKeys = await readFile(keyFile, 'utf8');
  await writeKeyFile(keyFile, [newKey()]);
  const logged = server.logs().length;
  await server.restart();
  await server.api('PUT', `/v1/sites/${SITE}`, { body: { httpsRedirect: true } });
  const plain = await get(server.node.pages.port, SITE, '/');
  t.equal(plain.status, 200, 'HTTP still serves the site (no redirect to a certificate it cannot serve)');
  t.equal(plain.body.toString(), 'hello');
  const handshake = await new Promise<string>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: server.node.pages.https?.port as number, servername: SITE, ca: certPem, timeout: 3000 }, () => resolve('connected'));
    socket.on('error', (err) => resolve(err.message));
  });
  t.not(handshake, 'connected', `no certificate is served for ${SITE} (${handshake})`);
  t.match(server.logs().slice(logged), /SECRETS KEY PROBLEM: this node serves HTTP but no certificate and orders none: .*secrets\.key holds key \w+ but the cluster seals its secrets with key \w+: copy the key file/);
  const health = await server.api('GET', '/healthz');
  t.equal(health.body.status, 'degraded');
  t.match(health.body.tls.secrets, /copy the key file from a node of the cluster/);
  t.match(await server.node.registry.metrics(), /^edgedns_secrets_key_ok 0$/m);
  const rotate = await server.api('POST', '/v1/secrets/rotate');
  t.equal(rotate.status, 409);
  t.equal(rotate.body.error.code, 'secrets_unavailable', 'nothing is sealed with a key the cluster does not use');

  await writeFile(keyFile, rightKeys, { mode: 0o600 });
  const { ms } = await waitFor(async () => (await httpsGet('/')).body === 'hello', { what: 'the certificate served again', timeoutMs: KEY_FILE_RECHECK_MS + 5000 });
  t.pass(`with the right key file copied in, the certificate is served again after ${ms} ms, no restart`);
  t.equal((await server.api('GET', '/healthz')).body.status, 'ok');
});
