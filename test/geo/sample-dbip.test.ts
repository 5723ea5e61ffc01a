// The geo walk-through of the README and docs/geo.md on a bare machine: the shipped zones/ (example.net names the pool
// "sample" seeded from zones/edges.json) and the default GeoIP database, DB-IP City Lite from the npm package, with
// real client networks in Europe, Asia and America getting their nearest edge, and /v1/route explaining each.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { resolveConfig } from '../../src/node/config.js';
import { startNode } from '../../src/node/node.js';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { waitUntil } from './geo-helpers.js';

t.test('npm start with the sample zones and DB-IP: Europe, Asia and America get different edges', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-sample-'));
  const config = resolveConfig({ dns: `127.0.0.1:${await freePort()}`, api: '127.0.0.1:0', http: '127.0.0.1:0', https: '127.0.0.1:0', data: dataDir, zones: path.resolve('zones'), 'node-id': 'sample' }, {});
  const node = await startNode(config, pino({ level: process.env.EDGEDNS_TEST_LOG ?? 'silent' }));
  t.teardown(async () => {
    await node.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const port = node.dnsUdp.port;
  // the default database loads in the background once a pool exists
  const loaded = await waitUntil(async () => (node.geo.geoip?.ready ? true : undefined), 20_000, 100);
  t.ok(loaded, 'DB-IP City Lite loaded');

  const cases: [string, string][] = [
    ['81.2.69.0/24', '192.0.2.1'], // London → ams
    ['133.242.0.0/24', '192.0.2.3'], // Tokyo → tyo
    ['8.8.8.0/24', '192.0.2.2'], // California → nyc
  ];
  const key = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
  for (const [subnet, want] of cases) {
    const r = await dig(port, 'www.example.net', 'A', { subnet });
    t.same(r.answer.map((a) => a.data), [want], `${subnet} → ${want}`);
    const scope = /\/(\d+)$/.exec(r.opt?.options['CLIENT-SUBNET']?.trim() ?? '')?.[1];
    t.ok(Number(scope) > 0 && Number(scope) <= 24, `scope /${scope}: at most /24, never /32`);
    const ex = (await (await fetch(`http://127.0.0.1:${node.api.port}/v1/route?name=www.example.net&client=${encodeURIComponent(subnet)}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { answer: string[] };
    t.same(ex.answer, [want], 'explained the same');
  }
  const apex = await dig(port, 'example.net', 'AAAA', { subnet: '2a00:1450:4001::/48' });
  t.same(apex.answer.map((a) => a.data), ['2001:db8::1'], 'apex AAAA from Frankfurt → ams');
});
