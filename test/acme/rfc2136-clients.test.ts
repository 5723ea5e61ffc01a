// Certificates through RFC 2136 updates, the most widely supported DNS-01 path: Debian's lego (`--dns rfc2136`)
// and certbot with certbot-dns-rfc2136, unchanged, against pebble, with TSIG keys of acme: scope made by
// `edgedns tsig create`. A missing tool fails the test with the package to install.

import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli, spawnEdgedns } from '../helpers/spawn-edgedns.js';
import { startPebble, run } from '../helpers/pebble.js';
import { requireTool } from '../helpers/tools.js';
import { readAdminKeyFile } from '../../src/keys/api-keys.js';

const ZONES = path.resolve('test/fixtures/api');
const CLIENT_TIMEOUT_MS = 90_000;
const CERTBOT_PLUGIN = '/usr/lib/python3/dist-packages/certbot_dns_rfc2136';

function sans(pem: string): string[] {
  return new X509Certificate(pem).subjectAltName?.split(', ').map((s) => s.replace(/^DNS:/, '')).sort() ?? [];
}

t.test('lego and certbot get certificates through RFC 2136 updates', async (t) => {
  const lego = requireTool('lego');
  const certbot = requireTool('certbot');
  requireTool('pebble');
  await readFile(path.join(CERTBOT_PLUGIN, '_internal', 'dns_rfc2136.py')).catch(() => {
    throw new Error('certbot-dns-rfc2136 is not installed: apt-get install -y python3-certbot-dns-rfc2136 (.ci/run installs it)');
  });
  const node = await spawnEdgedns({ zonesDir: ZONES });
  t.teardown(() => node.stop());
  const pebble = await startPebble(node.dnsPort);
  t.teardown(() => pebble.stop());
  const work = await mkdtemp(path.join(os.tmpdir(), 'edgedns-rfc2136-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const cli = { EDGEDNS_API: `127.0.0.1:${node.apiPort}`, EDGEDNS_API_KEY: (await readAdminKeyFile(node.dataDir)) as string, EDGEDNS_CONFIG: '/dev/null' };
  const tsigKey = async (...args: string[]): Promise<{ name: string; algorithm: string; secret: string }> => {
    const created = await runCli(['tsig', 'create', '--format', 'json', ...args], cli);
    t.equal(created.code, 0, `edgedns tsig create ${args.join(' ')}\n${created.stderr}`);
    return JSON.parse(created.stdout) as { name: string; algorithm: string; secret: string };
  };

  await t.test('lego --dns rfc2136', async (t) => {
    const key = await tsigKey('--scope', 'acme:rfc.example.test', '--name', 'lego.example.test');
    const dir = path.join(work, 'lego');
    const args = ['--accept-tos', '--email', 'ops@example.test', '--server', pebble.directory, '--path', dir, '--key-type', 'ec256', '--dns', 'rfc2136'];
    args.push('--dns.resolvers', `127.0.0.1:${node.dnsPort}`, '--dns.disable-cp', '-d', 'rfc.example.test', '-d', 'www.rfc.example.test', 'run');
    const result = await run(lego, args, {
      env: {
        LEGO_CA_CERTIFICATES: pebble.caFile,
        RFC2136_NAMESERVER: `127.0.0.1:${node.dnsPort}`,
        RFC2136_TSIG_KEY: key.name,
        RFC2136_TSIG_SECRET: key.secret,
        RFC2136_TSIG_ALGORITHM: `${key.algorithm}.`,
        RFC2136_TTL: '60',
        RFC2136_SEQUENCE_INTERVAL: '1',
        RFC2136_POLLING_INTERVAL: '1',
        RFC2136_PROPAGATION_TIMEOUT: '30',
      },
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    t.equal(result.code, 0, `lego --dns rfc2136 exits 0 (${result.ms} ms)\n${result.code === 0 ? '' : result.output}`);
    t.comment(`lego --dns rfc2136: ${result.ms} ms`);
    const pem = await readFile(path.join(dir, 'certificates', 'rfc.example.test.crt'), 'utf8').catch(() => '');
    t.same(sans(pem), ['rfc.example.test', 'www.rfc.example.test']);
  });

  await t.test('certbot --dns-rfc2136, apex and wildcard', async (t) => {
    const key = await tsigKey('--scope', 'acme:example.test', '--algorithm', 'hmac-sha512');
    const dir = path.join(work, 'certbot');
    const credentials = path.join(work, 'rfc2136.ini');
    await writeFile(
      credentials,
      [`dns_rfc2136_server = 127.0.0.1`, `dns_rfc2136_port = ${node.dnsPort}`, `dns_rfc2136_name = ${key.name}`, `dns_rfc2136_secret = ${key.secret}`, 'dns_rfc2136_algorithm = HMAC-SHA512', ''].join('\n'),
    );
    await chmod(credentials, 0o600);
    const args = ['certonly', '--non-interactive', '--agree-tos', '--register-unsafely-without-email', '--server', pebble.directory];
    args.push('--config-dir', path.join(dir, 'config'), '--work-dir', path.join(dir, 'work'), '--logs-dir', path.join(dir, 'logs'));
    args.push('--dns-rfc2136', '--dns-rfc2136-credentials', credentials, '--dns-rfc2136-propagation-seconds', '1');
    args.push('-d', 'example.test', '-d', '*.example.test');
    const result = await run(certbot, args, { env: { REQUESTS_CA_BUNDLE: pebble.caFile }, timeoutMs: CLIENT_TIMEOUT_MS });
    t.equal(result.code, 0, `certbot exits 0 (${result.ms} ms)\n${result.code === 0 ? '' : result.output}`);
    t.comment(`certbot --dns-rfc2136: ${result.ms} ms`);
    const pem = await readFile(path.join(dir, 'config', 'live', 'example.test', 'cert.pem'), 'utf8').catch(() => '');
    t.same(sans(pem), ['*.example.test', 'example.test']);
    const left = await runCli(['tsig', 'list'], cli);
    t.match(left.stdout, new RegExp(`${key.name.replace(/\./g, '\\.')}\\s+hmac-sha512\\s+acme:example\\.test\\s+active`), 'edgedns tsig list shows the key');
  });
});
