// /v1/edges and /v1/pools refuse bad input with the field named and write nothing; edges without coordinates are
// placed by GeoIP of their address.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startGeoNode, writeTestDb } from './geo-helpers.js';

const ZONE = `$ORIGIN api.test.
@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60
@ 3600 IN NS ns1
ns1 3600 IN A 192.0.2.53
`;

type ErrorBody = { error: { code: string; field?: string; message: string } };

t.test('edges and pools API', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-geoapi-'));
  const node = await startGeoNode({ zone: ZONE, zoneName: 'api.test', geoip: await writeTestDb(dir) });
  t.teardown(async () => {
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  });

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
    const r = await node.api<ErrorBody>(method, url, body);
    t.equal(r.status, 400, `${method} ${url} ${JSON.stringify(body)}: 400`);
    t.equal(r.body.error.field, field, `names ${field}: ${r.body.error.message}`);
  }
  t.same((await node.api<{ edges: unknown[] }>('GET', '/v1/edges')).body.edges, [], 'nothing was written');
  t.same((await node.api<{ pools: unknown[] }>('GET', '/v1/pools')).body.pools, []);

  const created = await node.api('POST', '/v1/edges', { name: 'fra', ipv4: ['5.9.1.1'] });
  t.equal(created.status, 201);
  const fra = await node.api<{ location: { source: string; country: string }; up: boolean; weight: number; state: string }>('GET', '/v1/edges/fra');
  t.match(fra.body, { location: { source: 'geoip', country: 'DE' }, up: true, weight: 100, state: 'active' }, 'placed by GeoIP, with defaults');
  t.equal((await node.api<ErrorBody>('POST', '/v1/edges', { name: 'fra', ipv4: ['5.9.1.2'] })).body.error.code, 'edge_exists');
  const given = await node.api('PATCH', '/v1/edges/fra', { latitude: 50.11, longitude: 8.68 });
  t.equal(given.status, 200);
  t.match((await node.api('GET', '/v1/edges/fra')).body, { location: { source: 'given', latitude: 50.11 } });
  await node.api('PATCH', '/v1/edges/fra', { latitude: null, longitude: null });
  t.match((await node.api('GET', '/v1/edges/fra')).body, { location: { source: 'geoip' } }, 'null clears the coordinates');
  t.equal((await node.api<ErrorBody>('GET', '/v1/edges/nope')).body.error.code, 'edge_not_found');
  t.equal((await node.api<ErrorBody>('GET', '/v1/pools/nope/explain?client=8.8.8.8')).body.error.code, 'pool_not_found');
  t.equal((await node.api('POST', '/v1/pools', { name: 'p', members: ['fra'] })).status, 201);
  t.match((await node.api('GET', '/v1/pools/p')).body, { marginPercent: 20, marginMs: 10, marginRounds: 3 }, 'the default stabilization margin');
  t.match((await node.api('PATCH', '/v1/pools/p', { marginPercent: 10, marginRounds: 5 })).body, { marginPercent: 10, marginMs: 10, marginRounds: 5 }, 'changed field by field');
  t.equal((await node.api<ErrorBody>('DELETE', '/v1/edges/fra')).body.error.code, 'edge_in_use');
  t.equal((await node.api('DELETE', '/v1/pools/p')).status, 204);
  t.equal((await node.api('DELETE', '/v1/edges/fra')).status, 204);
  const noKey = await fetch(`http://127.0.0.1:${node.apiPort}/v1/edges`);
  t.equal(noKey.status, 401, 'a key is needed');
});
