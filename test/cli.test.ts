// What an operator does on a fresh machine: start a node, import/export/list zones with the CLI, and check the
// answers with dig, as the README's acceptance steps say. The zone commands run in-process (runCommand) against an
// in-process node; real runs of the `edgedns` binary prove the wiring: help, an unknown command, a bad serve flag,
// and one zone import.

import t from 'tap';
import { stat, writeFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiRequestError } from '../src/cli/api-client.js';
import { parseZoneFile } from '../src/zone/zonefile-parse.js';
import { runCommand } from './helpers/cli.js';
import { dig } from './helpers/dig.js';
import { startTestNode } from './helpers/node.js';
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
});
