// End to end with the real ACME clients (Debian's lego and certbot) against the real test CA (Debian's pebble),
// whose DNS-01 validation asks this edgedns node: every path a user would take gets a certificate naming the
// domains. (Debian's lego 4.9.1 is built without its acme-dns provider: debian/rules lists acmedns among the
// providers left out until goacmedns is packaged, so `lego --dns acme-dns … run` stops with "unrecognized DNS
// provider: acme-dns" although `lego dnshelp -c acme-dns`, generated from lego's docs, still lists it.
// test/acme/acme-dns.test.ts speaks that protocol as lego's client library does.) A missing tool fails the test
// with the package to install. The three lego runs use different names and run at once (each spends most of its
// time waiting on pebble's polling intervals); certbot runs after them, as it checks that no value is left.

import t, { type Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestNode } from '../helpers/node.js';
import { startPebble, run } from '../helpers/pebble.js';
import { CLI } from '../helpers/spawn-edgedns.js';
import { requireTool } from '../helpers/tools.js';

const FIXTURES = path.resolve('test/fixtures/api');
const ZONES = [path.join(FIXTURES, 'example.test.zone'), path.join(FIXTURES, 'other.test.zone')];
/** Per client run: pebble answers in milliseconds, so anything near this is a hang, not slowness. */
const CLIENT_TIMEOUT_MS = 90_000;

function sans(pem: string): string[] {
  return new X509Certificate(pem).subjectAltName?.split(', ').map((s) => s.replace(/^DNS:/, '')).sort() ?? [];
}

t.test('lego and certbot get certificates through edgedns', async (t) => {
  const lego = requireTool('lego');
  const certbot = requireTool('certbot');
  requireTool('pebble');
  // The node in-process; the ACME clients and the hooks they run are real processes talking to its sockets.
  const node = await startTestNode({ zoneFiles: ZONES, flags: { 'acme-dns-domain': 'auth.example.test' } });
  t.teardown(() => node.close());
  const pebble = await startPebble(node.dnsPort);
  t.teardown(() => pebble.stop());
  const work = await mkdtemp(path.join(os.tmpdir(), 'edgedns-acme-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const apiUrl = `http://127.0.0.1:${node.apiPort}`;
  const newKey = async (scope: string): Promise<string> => (await node.api('POST', '/v1/keys', { body: { scope } })).body.secret;

  interface LegoRun {
    dns: string;
    code: number | null;
    output: string;
    ms: number;
    pem: string;
  }
  const runLego = async (name: string, domains: string[], dns: string, env: NodeJS.ProcessEnv): Promise<LegoRun> => {
    const dir = path.join(work, name);
    const args = ['--accept-tos', '--email', 'ops@example.test', '--server', pebble.directory, '--path', dir, '--key-type', 'ec256', '--dns', dns];
    // lego finds the zone with SOA queries to these resolvers; the nameserver propagation check would need port 53
    args.push('--dns.resolvers', `127.0.0.1:${node.dnsPort}`, '--dns.disable-cp');
    for (const d of domains) args.push('-d', d);
    args.push('run');
    const result = await run(lego, args, { env: { LEGO_CA_CERTIFICATES: pebble.caFile, ...env }, timeoutMs: CLIENT_TIMEOUT_MS });
    const file = path.join(dir, 'certificates', `${(domains[0] as string).replace('*', '_')}.crt`);
    return { dns, ...result, pem: await readFile(file, 'utf8').catch(() => '') };
  };
  const legoExited = (t: Test, run: LegoRun): void => {
    t.equal(run.code, 0, `lego --dns ${run.dns} exits 0 (${run.ms} ms)\n${run.code === 0 ? '' : run.output}`);
    t.comment(`lego --dns ${run.dns}: ${run.ms} ms`);
  };

  const script = path.join(work, 'lego-exec.sh');
  await writeFile(script, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" acme lego-exec "$@"\n`);
  await chmod(script, 0o755);
  const [pdns, httpreq, exec] = await Promise.all([
    newKey('acme:example.test').then((key) => runLego('pdns', ['example.test', '*.example.test'], 'pdns', { PDNS_API_URL: apiUrl, PDNS_API_KEY: key, PDNS_TTL: '60' })),
    newKey('acme:httpreq.example.test').then((key) =>
      runLego('httpreq', ['httpreq.example.test', '*.httpreq.example.test'], 'httpreq', { HTTPREQ_ENDPOINT: `${apiUrl}/v1/acme/httpreq`, HTTPREQ_USERNAME: 'lego', HTTPREQ_PASSWORD: key }),
    ),
    newKey('acme:exec.example.test').then((key) =>
      runLego('exec', ['exec.example.test'], 'exec', { EXEC_PATH: script, EDGEDNS_API: `127.0.0.1:${node.apiPort}`, EDGEDNS_API_KEY: key, EDGEDNS_CONFIG: '/dev/null' }),
    ),
  ]);

  await t.test('lego --dns pdns with an acme: key', async (t) => {
    legoExited(t, pdns);
    t.same(sans(pdns.pem), ['*.example.test', 'example.test']);
  });

  await t.test('lego --dns httpreq', async (t) => {
    legoExited(t, httpreq);
    t.same(sans(httpreq.pem), ['*.httpreq.example.test', 'httpreq.example.test']);
  });

  await t.test('lego --dns exec with edgedns acme lego-exec', async (t) => {
    legoExited(t, exec);
    t.same(sans(exec.pem), ['exec.example.test']);
    if (process.env.EDGEDNS_TEST_PEBBLE_LOG) t.comment(pebble.logs());
  });

  await t.test('certbot --manual with the edgedns hooks, apex and wildcard', async (t) => {
    const dir = path.join(work, 'certbot');
    // certbot looks the hook's first word up on PATH and does not parse quotes: absolute paths, unquoted
    const hook = (which: string): string => `${process.execPath} ${CLI} acme ${which}`;
    const args = ['certonly', '--non-interactive', '--agree-tos', '--register-unsafely-without-email', '--server', pebble.directory];
    args.push('--config-dir', path.join(dir, 'config'), '--work-dir', path.join(dir, 'work'), '--logs-dir', path.join(dir, 'logs'));
    args.push('--manual', '--preferred-challenges', 'dns', '--manual-auth-hook', hook('certbot-auth'), '--manual-cleanup-hook', hook('certbot-cleanup'));
    args.push('-d', 'example.test', '-d', '*.example.test');
    const result = await run(certbot, args, {
      env: {
        REQUESTS_CA_BUNDLE: pebble.caFile,
        EDGEDNS_API: `127.0.0.1:${node.apiPort}`,
        EDGEDNS_API_KEY: await newKey('acme:example.test'),
        EDGEDNS_NS_PORT: String(node.dnsPort),
        EDGEDNS_ACME_WAIT: '20',
        EDGEDNS_CONFIG: '/dev/null',
      },
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    t.equal(result.code, 0, `certbot exits 0 (${result.ms} ms)\n${result.code === 0 ? '' : result.output}`);
    t.comment(`certbot: ${result.ms} ms`);
    // certbot goes on when a hook fails, so check the hooks themselves said they succeeded
    t.notMatch(result.output, /reported error|ran with error output/, 'no hook failed');
    const certbotLog = result.output + (await readFile(path.join(dir, 'logs', 'letsencrypt.log'), 'utf8'));
    t.match(certbotLog, /_acme-challenge\.example\.test\. TXT "[^"]+" answered by ns1\.example\.test\. 127\.0\.0\.1, ns2\.example\.test\. 127\.0\.0\.1 after \d+ ms/, 'the auth hook waited for both nameservers');
    const waits = [...result.output.matchAll(/answered by .* after (\d+) ms/g)].map((m) => Number(m[1]));
    t.comment(`certbot-auth waited ${waits.join(', ')} ms for every nameserver`);
    const pem = await readFile(path.join(dir, 'config', 'live', 'example.test', 'cert.pem'), 'utf8').catch(() => '');
    t.same(sans(pem), ['*.example.test', 'example.test']);
    const left = await node.api('GET', '/v1/acme/challenges');
    t.same(left.body.challenges, [], 'the cleanup hook removed every value');
  });
});
