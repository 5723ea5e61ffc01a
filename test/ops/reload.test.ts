// What a reload (SIGHUP; RunningNode.reload in-process) does to each part, one behaviour per test: the log level
// from the configuration read again, settings that need a restart named, GeoIP files read again (a broken one keeps
// the previous version), and the cluster secrets key file read again, so a key copied in after the start is used.
// The signal itself, under query load, is test/ops/signals.test.ts.

import t from 'tap';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../src/node/config.js';
import { formatKeyFile, newKey } from '../../src/secrets/key-file.js';
import { writeTestDb } from '../geo/geo-helpers.js';
import { startTestNode } from '../helpers/node.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-reload-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('the log level follows the configuration read again; other changes are named as needing a restart', async (t) => {
  const node = await startTestNode({ zonesDir: 'zones', logLevel: 'info', flags: { geoip: 'none' } });
  t.teardown(() => node.close());
  const running = resolveConfig({ 'log-level': 'info', 'rrl-rate': '200' }, {});
  node.node.api.app.log.info('a control line at info');
  t.match(node.logs(), 'a control line at info', 'at info, info lines are logged');
  const same = await node.node.reload();
  t.same(same.logLevel, { from: 'info', to: 'info' }, 'without a new configuration the level stays');
  t.same(same.restartNeeded, []);

  const report = await node.node.reload({ ...running, logLevel: 'warn', rrl: { ...running.rrl, rate: 50 }, dns: [{ host: '127.0.0.1', port: 5399 }] });
  t.same(report.logLevel, { from: 'info', to: 'warn' });
  t.ok(report.restartNeeded.includes('rrl') && report.restartNeeded.includes('dns'), `named: ${report.restartNeeded.join(', ')}`);
  t.notOk(report.restartNeeded.includes('logLevel'), 'the log level is not among them: it was applied');
  const reloadLines = (): string[] => node.logLines().filter((l) => String(l.msg).startsWith('reloaded on SIGHUP')).map((l) => String(l.msg));
  t.match(reloadLines().at(-1), 'log level info -> warn', 'the reload that turns the level down still logs its line');
  node.node.api.app.log.info('a line at info');
  t.notMatch(node.logs(), 'a line at info', 'after it, info lines are gone');
  await node.node.reload({ ...running, logLevel: 'info' });
  t.match(reloadLines().at(-1), 'log level warn -> info', 'turned up again, the line shows');
  t.equal(reloadLines().length, 3, 'one line per reload');
});

t.test('GeoIP files are read again; one that no longer reads keeps its previous version', async (t) => {
  const geoip = path.join(dir, 'reload.mmdb');
  await copyFile(await writeTestDb(dir), geoip);
  const node = await startTestNode({ zonesDir: 'zones', flags: { geoip } });
  t.teardown(() => node.close());
  const loads = await node.metricTotal('edgedns_geoip_loads_total', { result: 'ok' });
  const ok = await node.node.reload();
  t.same(ok.geoip.map((g) => [g.path, g.result]), [[geoip, 'ok']]);
  t.equal(await node.metricTotal('edgedns_geoip_loads_total', { result: 'ok' }), loads + 1, 'counted as a load');

  await writeFile(geoip, 'not a MaxMind database');
  const failed = await node.node.reload();
  t.equal(failed.geoip[0]?.result, 'failed');
  t.equal(await node.metricTotal('edgedns_geoip_loads_total', { result: 'failed' }), 1);
  t.same(node.node.geo.geoip?.describe().map((d) => d.path), [geoip], 'the previous database is still loaded');
  t.ok(node.node.geo.geoip?.ready, 'and still answers lookups');
});

t.test('TLS material: a secrets key file put right after the start is read, and the node can open secrets again', async (t) => {
  // A node whose key file does not read at start serves without certificates and says so.
  const broken = path.join(dir, 'broken.key');
  await writeFile(broken, 'this is not a key\n');
  const node = await startTestNode({ zonesDir: 'zones', dataFiles: { 'secrets.key': broken }, logLevel: 'info', flags: { geoip: 'none' } });
  t.teardown(() => node.close());
  t.equal(await node.metric('edgedns_secrets_key_ok'), 0, 'the broken key is reported');
  const before = await node.node.reload();
  t.match(before.secretsKeyProblem ?? '', /not a base64 32-byte key/, 'a reload with the same broken file changes nothing');

  // The operator copies a good key file in (the first node of a cluster writes one like this), then reloads.
  await writeFile(path.join(node.dataDir, 'secrets.key'), formatKeyFile([newKey()]), { mode: 0o600 });
  const after = await node.node.reload();
  t.equal(after.secretsKeyProblem, undefined, 'the key file reads now');
  t.equal(await node.metric('edgedns_secrets_key_ok'), 1);
  const lines = node.logLines().filter((l) => String(l.msg).startsWith('reloaded on SIGHUP')).map((l) => String(l.msg));
  t.match(lines, [/secrets key NOT OK/, /secrets key ok/], 'the two reload lines say so');
});
