// /v1/edges and /v1/pools refuse bad input with the field named and write nothing; edges without coordinates are
// placed by GeoIP of their address.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startTestNode } from '../helpers/node.js';
import { geoNodeOptions, writeTestDb } from './geo-helpers.js';

const ZONE = `$ORIGIN api.test.
@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60
@ 3600 IN NS ns1
ns1 3600 IN A 192.0.2.53
`;

t.test('edges and pools API', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-geoapi-'));
  const node = await startTestNode(geoNodeOptions({ zone: ZONE, zoneName: 'api.test', geoip: await writeTestDb(dir) }));
  t.teardown(async () => {
    await node.close();
    await rm(dir, { recursive: true, force: true });
  });
  const api = (method: string, url: string, body?: unknown) => node.api(method, url, { body });

  const bad: [string, string, unknown, string][] = [
    ['POST', '/v1/edges', { name: 'x', ipv4: ['1.2.3'] }, 'ipv4.0'],
    ['POST', '/v1/edges', { name: 'x' }, 'ipv4'],
    ['POST', '/v1/edges', { name: 'X Y', ipv4: ['192.0.2.1'] }, 'name'],
    ['POST', '/v1/edges', { name: 'x', ipv4: ['192.0.2.1'], latitude: 95, longitude: 0 }, 'latitude'],
    ['POST', '/v1/edges', { name: 'x', ipv4: ['192.0.2.1'], latitude: 10 }, 'longitude'],
    ['POST', '/v1/edges', { name: 'x', ipv4: ['192.0.2.1'], check: { type: 'tcp', port: 70000 } }, 'check.port'],
    ['POST', '/v1/edges', { name: 'x', ipv4: ['192.0.2.1'], check: { type: 'ftp' } }, 'check.type'],
    ['POST', '/v1/edges', { name: 'x', ipv4: ['192.0.2.1'], colour: 'red' }, 'colour'],
    ['PUT', '/v1/edges/x', { name: 'y', ipv4: ['192.0.2.1'] }, 'name'],
    ['POST', '/v1/pools', { name: 'p', members: ['ghost'] }, 'members.0'],
    ['POST', '/v1/pools', { name: 'p', members: [], count: 0 }, 'count'],
    ['POST', '/v1/pools', { name: 'p', members: [], pins: [{ match: 'planet:mars', edges: ['a'] }] }, 'pins.0.match'],
    ['POST', '/v1/pools', { name: 'p', members: [], pins: [{ match: 'country:JP', edges: ['a'] }] }, 'pins.0.edges.0'],
    ['POST', '/v1/pools', { name: 'p', members: [], failOpen: 'yes' }, 'failOpen'],
    ['POST', '/v1/pools', { name: 'p', members: [], marginPercent: 120 }, 'marginPercent'],
    ['POST', '/v1/pools', { name: 'p', members: [], marginMs: -1 }, 'marginMs'],
    ['POST', '/v1/pools', { name: 'p', members: [], marginRounds: 2.5 }, 'marginRounds'],
    ['POST', '/v1/pools', { name: 'p', members: [], marginMs: '10' }, 'marginMs'],
  ];
  for (const [method, url, body, field] of bad) {
    const r = await api(method, url, body);
    t.equal(r.status, 400, `${method} ${url} ${JSON.stringify(body)}: 400`);
    t.equal(r.body.error.field, field, `names ${field}: ${r.body.error.message}`);
  }
  t.same((await api('GET', '/v1/edges')).body.edges, [], 'nothing was written');
  t.same((await api('GET', '/v1/pools')).body.pools, []);

  const created = await api('POST', '/v1/edges', { name: 'fra', ipv4: ['5.9.1.1'] });
  t.equal(created.status, 201);
  const fra = await api('GET', '/v1/edges/fra');
  t.match(fra.body, { location: { source: 'geoip', country: 'DE' }, up: true, weight: 100, state: 'active' }, 'placed by GeoIP, with defaults');
  t.equal((await api('POST', '/v1/edges', { name: 'fra', ipv4: ['5.9.1.2'] })).body.error.code, 'edge_exists');
  const given = await api('PATCH', '/v1/edges/fra', { latitude: 50.11, longitude: 8.68 });
  t.equal(given.status, 200);
  t.match((await api('GET', '/v1/edges/fra')).body, { location: { source: 'given', latitude: 50.11 } });
  await api('PATCH', '/v1/edges/fra', { latitude: null, longitude: null });
  t.match((await api('GET', '/v1/edges/fra')).body, { location: { source: 'geoip' } }, 'null clears the coordinates');
  t.equal((await api('GET', '/v1/edges/nope')).body.error.code, 'edge_not_found');
  t.equal((await api('GET', '/v1/pools/nope/explain?client=8.8.8.8')).body.error.code, 'pool_not_found');
  t.equal((await api('POST', '/v1/pools', { name: 'p', members: ['fra'] })).status, 201);
  t.match((await api('GET', '/v1/pools/p')).body, { marginPercent: 20, marginMs: 10, marginRounds: 3 }, 'the default stabilization margin');
  t.match((await api('PATCH', '/v1/pools/p', { marginPercent: 10, marginRounds: 5 })).body, { marginPercent: 10, marginMs: 10, marginRounds: 5 }, 'changed field by field');
  t.equal((await api('DELETE', '/v1/edges/fra')).body.error.code, 'edge_in_use');
  t.equal((await api('DELETE', '/v1/pools/p')).status, 204);
  t.equal((await api('DELETE', '/v1/edges/fra')).status, 204);
  const noKey = await node.api('GET', '/v1/edges', { key: null });
  t.equal(noKey.status, 401, 'a key is needed');
});
