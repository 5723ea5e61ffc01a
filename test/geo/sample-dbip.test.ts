// The geo walk-through of the README and docs/geo.md on a bare machine: the shipped zones/ (example.net names the pool
// "sample" seeded from zones/edges.json) and the default GeoIP database, DB-IP City Lite from the npm package, with
// real client networks in Europe, Asia and America getting their nearest edge, and /v1/route explaining each.

import path from 'node:path';
import t from 'tap';
import { dig } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';
import { waitFor } from '../helpers/wait-for.js';

t.test('npm start with the sample zones and DB-IP: Europe, Asia and America get different edges', async (t) => {
  const started = await startTestNode({ zonesDir: path.resolve('zones'), nodeId: 'sample' });
  t.teardown(() => started.close());
  const { node } = started;
  const port = started.dnsPort;
  // the default database loads in the background once a pool exists
  const loaded = await waitFor(() => node.geo.geoip?.ready, { what: 'DB-IP City Lite to load', timeoutMs: 20_000, intervalMs: 100 });
  t.ok(loaded.value, 'DB-IP City Lite loaded');

  const cases: [string, string][] = [
    ['81.2.69.0/24', '192.0.2.1'], // London → ams
    ['133.242.0.0/24', '192.0.2.3'], // Tokyo → tyo
    ['8.8.8.0/24', '192.0.2.2'], // California → nyc
  ];
  for (const [subnet, want] of cases) {
    const r = await dig(port, 'www.example.net', 'A', { subnet });
    t.same(r.answer.map((a) => a.data), [want], `${subnet} → ${want}`);
    const scope = /\/(\d+)$/.exec(r.opt?.options['CLIENT-SUBNET']?.trim() ?? '')?.[1];
    t.ok(Number(scope) > 0 && Number(scope) <= 24, `scope /${scope}: at most /24, never /32`);
    const ex = (await started.api('GET', `/v1/route?name=www.example.net&client=${encodeURIComponent(subnet)}`)).body as { answer: string[] };
    t.same(ex.answer, [want], 'explained the same');
  }
  const apex = await dig(port, 'example.net', 'AAAA', { subnet: '2a00:1450:4001::/48' });
  t.same(apex.answer.map((a) => a.data), ['2001:db8::1'], 'apex AAAA from Frankfurt → ams');
});
