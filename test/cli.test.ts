// What an operator does on a fresh machine: start a node, import/export/list zones with the CLI, and check the
// answers with dig, as the README's acceptance steps say. The zone commands run in-process (runCommand) against an
// in-process node; real runs of the `edgedns` binary prove the wiring: help, an unknown command, a bad serve flag,
// and one zone import.

import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stat, writeFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiRequestError } from '../src/cli/api-client.js';
import { parseZoneFile } from '../src/zone/zonefile-parse.js';
import { runCommand } from './helpers/cli.js';
import { dig } from './helpers/dig.js';
import { startTestNode } from './helpers/node.js';
import { freePort } from './helpers/ports.js';
import { runCli } from './helpers/spawn-edgedns.js';

const SAMPLE = path.resolve('zones/example.com.zone');

t.test('every command has --help', async (t) => {
  for (const args of [['--help'], ['serve', '--help']]) {
    const result = await runCli(args);
    t.equal(result.code, 0, `edgedns ${args.join(' ')} exits 0`);
    t.match(result.stdout, /Usage/);
  }
  const zoneHelp = await runCommand(['zone', '--help']);
  t.error(zoneHelp.error, 'edgedns zone --help');
  t.match(zoneHelp.stdout, /Usage/);
  const unknown = await runCli(['frobnicate']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command "frobnicate"/);
});

t.test('edgedns --version and edgedns version print the version in package.json', async (t) => {
  const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
  for (const args of [['--version'], ['version']]) {
    const result = await runCli(args);
    t.equal(result.code, 0, `edgedns ${args.join(' ')} exits 0`);
    t.equal(result.stdout, `${version}\n`, `edgedns ${args.join(' ')} prints ${version}`);
  }
});

t.test('an unknown option or a missing value is a usage error (exit 2) naming it and the help to read', async (t) => {
  const cases: [string[], RegExp][] = [
    [['serve', '--no-such-flag'], /^edgedns: unknown option --no-such-flag; see 'edgedns serve --help'\n$/],
    [['serve', '--dns'], /^edgedns: --dns needs a value; see 'edgedns serve --help'\n$/],
    [['zone', 'list', '--replace=yes'], /^edgedns: --replace takes no value; see 'edgedns zone --help'\n$/],
    [['deploy', 'site', '--sites', 'x'], /^edgedns: unknown option --sites; see 'edgedns deploy --help'\n$/],
    [['--no-such-flag'], /^edgedns: unknown option --no-such-flag; see 'edgedns --help'\n$/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args, { EDGEDNS_API: '127.0.0.1:1' });
    t.equal(result.code, 2, `edgedns ${args.join(' ')} exits 2`);
    t.match(result.stderr, message);
    t.equal(result.stdout, '', 'and prints nothing on stdout');
  }
});

t.test('KEY=$(edgedns key create ...) gets nothing and a non-zero exit when no key comes back', async (t) => {
  const closed = `127.0.0.1:${await freePort()}`;
  const unreachable = await runCli(['key', 'create', '--scope', 'acme:example.com'], { EDGEDNS_API: closed, EDGEDNS_API_KEY: 'k' });
  t.equal(unreachable.code, 1, 'no node at the address: exit 1');
  t.equal(unreachable.stdout, '', 'nothing for $(...) to capture');
  t.match(unreachable.stderr, `cannot reach the edgedns API at http://${closed} (ECONNREFUSED)`);

  // Something answers 200 at the address, but not with a key (another service, a proxy's page).
  const other = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => other.close(() => resolve())));
  const api = `127.0.0.1:${(other.address() as AddressInfo).port}`;
  const empty = await runCli(['key', 'create', '--scope', 'acme:example.com'], { EDGEDNS_API: api, EDGEDNS_API_KEY: 'k' });
  t.equal(empty.code, 1, 'an answer without a secret: exit 1');
  t.equal(empty.stdout, '', 'nothing for $(...) to capture');
  t.match(empty.stderr, new RegExp(`http://${api.replace(/\./g, '\\.')} answered without a key secret`));
});

t.test('a bad --dns address is a clear error', async (t) => {
  const result = await runCli(['serve', '--dns', 'nowhere', '--data', os.tmpdir()]);
  t.equal(result.code, 1);
  t.match(result.stderr, /--dns "nowhere" is not HOST:PORT/);
});

t.test('a node on the embedded store: zone import, list, export, replace; dig sees it', async (t) => {
  const node = await startTestNode();
  t.teardown(() => node.close());
  const env = { EDGEDNS_API: `127.0.0.1:${node.apiPort}`, EDGEDNS_DATA: node.dataDir, EDGEDNS_API_KEY: '' };

  const key = await stat(path.join(node.dataDir, 'admin.key'));
  t.equal(key.mode & 0o777, 0o600, 'admin.key is readable by its owner only');

  const before = await dig(node.dnsPort, 'www.example.com', 'A');
  t.equal(before.rcode, 'REFUSED', 'not served before import');

  const imported = await runCli(['zone', 'import', SAMPLE], env);
  t.equal(imported.code, 0, imported.stderr);
  t.match(imported.stdout, /imported example\.com\.: \d+ RRsets, serial \d+/);

  const www = await dig(node.dnsPort, 'www.example.com', 'A');
  t.equal(www.rcode, 'NOERROR');
  t.ok(www.flags.includes('aa'), 'aa set');
  t.notOk(www.flags.includes('ra'), 'ra not set');

  const again = await runCommand(['zone', 'import', SAMPLE], env);
  t.type(again.error, ApiRequestError, 'importing an existing zone without --replace fails');
  t.match(again.error?.message, /already exists.*--replace/);

  const list = await runCommand(['zone', 'list'], env);
  t.match(list.stdout, /example\.com\.\s+\d+\s+\d+\s+yes/);
  const serial = Number(/example\.com\.\s+(\d+)/.exec(list.stdout)?.[1]);

  const exported = await runCommand(['zone', 'export', 'example.com'], env);
  t.error(exported.error);
  const original = parseZoneFile(await readFile(SAMPLE, 'utf8'), { file: 'example.com.zone' });
  const roundTrip = parseZoneFile(exported.stdout, { file: 'export' });
  const strip = (z: typeof original) => z.rrsets.filter((r) => r.type !== 'SOA').map((r) => JSON.stringify(r)).sort();
  t.same(strip(roundTrip), strip(original), 'export holds every RRset of the import');

  const replaced = await runCommand(['zone', 'import', '--replace', SAMPLE], env);
  t.error(replaced.error);
  t.match(replaced.stdout, new RegExp(`replaced example\\.com\\.: \\d+ RRsets, serial ${serial + 1}`), 'serial moves forward on replace');
  const soa = await dig(node.dnsPort, 'example.com', 'SOA');
  t.equal(Number(soa.answer[0]?.data.split(/\s+/)[2]), serial + 1, 'dig sees the new serial');
});

t.test('a malformed zone file names file:line and changes nothing', async (t) => {
  const node = await startTestNode({ zonesDir: path.dirname(SAMPLE) });
  t.teardown(() => node.close());
  const env = { EDGEDNS_API: `127.0.0.1:${node.apiPort}`, EDGEDNS_DATA: node.dataDir, EDGEDNS_API_KEY: '' };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-bad-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'bad.zone');
  const text = (await readFile(SAMPLE, 'utf8')) + '\nbroken IN MX not-a-number mail\n';
  await writeFile(bad, text);
  const lines = text.split('\n').length - 1;
  const result = await runCommand(['zone', 'import', '--replace', bad], env);
  t.type(result.error, ApiRequestError);
  t.match(result.error?.message, new RegExp(`bad\\.zone:${lines}:`), 'the error names file and line');
  const still = await dig(node.dnsPort, 'www.example.com', 'A');
  t.equal(still.rcode, 'NOERROR', 'the served zone is unchanged');
  const missing = await dig(node.dnsPort, 'broken.example.com', 'MX');
  t.equal(missing.rcode, 'NXDOMAIN', 'nothing of the bad file was written');
});

t.test('without a key the API refuses writes with 401 and a JSON error', async (t) => {
  const node = await startTestNode();
  t.teardown(() => node.close());
  const response = await node.api('POST', '/v1/zones', { key: null, body: 'x', headers: { 'content-type': 'text/dns' } });
  t.equal(response.status, 401);
  t.equal(response.body.error.code, 'unauthorized');
  t.equal(response.body.error.field, 'authorization');
  const health = await node.api('GET', '/healthz', { key: null });
  t.equal(health.status, 200);
  const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
  t.match(health.body, { status: 'ok', version }, '/healthz names the edgedns version');
});
