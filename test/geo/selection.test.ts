// Selection as a pure function over a snapshot: nearest healthy edge, pins, weights among near-equal edges with a
// stable choice per client network, fail-open and NODATA, and the documented latency estimate.

import t from 'tap';
import { normalizeEdge, normalizePool, type EdgeFields, type PoolFields } from '../../src/geo/edge-docs.js';
import { parseIp, type ClientAddress } from '../../src/geo/ip.js';
import { estimateMs, greatCircleKm, selectEdges, type ClientContext } from '../../src/geo/selection.js';
import { compilePool, type EdgeView, type GeoSnapshot } from '../../src/geo/snapshot.js';
import { parseIPv4, parseIPv6 } from '../../src/proto/rdata-ip.js';

function view(fields: EdgeFields, up = true, penaltyMs?: number): EdgeView {
  return {
    name: fields.name,
    fields,
    location: fields.latitude !== undefined ? { latitude: fields.latitude, longitude: fields.longitude as number, source: 'given' } : undefined,
    ipv4: fields.ipv4.map((a) => parseIPv4(a) as Buffer),
    ipv6: fields.ipv6.map((a) => parseIPv6(a) as Buffer),
    up,
    votes: [],
    penaltyMs,
    checked: true,
  };
}

function snapshot(edges: EdgeView[], pools: PoolFields[]): GeoSnapshot {
  return { epoch: 1, edges: new Map(edges.map((e) => [e.name, e])), pools: new Map(pools.map((p) => [p.name, compilePool(p)])) };
}

const fra = normalizeEdge({ name: 'fra', ipv4: ['198.51.100.1'], ipv6: ['2001:db8::1'], latitude: 50.11, longitude: 8.68 });
const ams = normalizeEdge({ name: 'ams', ipv4: ['198.51.100.4'], latitude: 52.37, longitude: 4.9 });
const nyc = normalizeEdge({ name: 'nyc', ipv4: ['198.51.100.2'], latitude: 40.71, longitude: -74.0 });
const tyo = normalizeEdge({ name: 'tyo', ipv4: ['198.51.100.3'], latitude: 35.68, longitude: 139.69 });
const london: ClientContext = { location: { latitude: 51.51, longitude: -0.09, country: 'GB', continent: 'EU' }, networkKey: '81.2.69.0/24', address: parseIp('81.2.69.0') as ClientAddress };
const tokyo: ClientContext = { location: { latitude: 35.69, longitude: 139.75, country: 'JP', continent: 'AS' }, networkKey: '133.242.0.0/16' };

t.test('the latency estimate is 5 ms plus the round trip at 200 km/ms', async (t) => {
  const km = greatCircleKm({ latitude: 51.51, longitude: -0.09 }, { latitude: 40.71, longitude: -74.0 });
  t.ok(km > 5500 && km < 5650, `London-New York is about 5,570 km (${Math.round(km)})`);
  t.equal(estimateMs(1000), 15);
});

t.test('nearest healthy edge first; count takes the next nearest', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['fra', 'nyc', 'tyo'] });
  const snap = snapshot([view(fra), view(nyc), view(tyo)], [pool]);
  t.same(selectEdges(snap, 'web', 4, london).chosen, ['fra']);
  t.same(selectEdges(snap, 'web', 4, tokyo).chosen, ['tyo']);
  const two = snapshot([view(fra), view(nyc), view(tyo)], [{ ...pool, count: 2 }]);
  t.same(selectEdges(two, 'web', 4, london).chosen, ['fra', 'nyc']);
  const down = snapshot([view(fra, false), view(nyc), view(tyo)], [pool]);
  const d = selectEdges(down, 'web', 4, london);
  t.same(d.chosen, ['nyc'], 'a down edge is skipped');
  t.equal(d.candidates.find((c) => c.edge === 'fra')?.excluded, 'down');
});

t.test('AAAA only from edges with IPv6; draining and disabled edges are not answered', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['fra', 'nyc', 'tyo'] });
  t.same(selectEdges(snapshot([view(fra), view(nyc), view(tyo)], [pool]), 'web', 6, tokyo).chosen, ['fra']);
  const drained = snapshot([view({ ...fra, state: 'draining' }), view(nyc), view(tyo)], [pool]);
  t.same(selectEdges(drained, 'web', 4, london).chosen, ['nyc']);
  const none = selectEdges(snapshot([view(nyc)], [pool]), 'web', 6, london);
  t.ok(none.noData, 'no member with IPv6: nothing to answer');
});

t.test('all down: fail open with every member, or nothing when the pool does not fail open', async (t) => {
  const edges = [view(fra, false), view(nyc, false)];
  const open = selectEdges(snapshot(edges, [normalizePool({ name: 'web', members: ['fra', 'nyc'] })]), 'web', 4, london);
  t.ok(open.failOpen);
  t.same(open.chosen, ['fra', 'nyc']);
  const closed = selectEdges(snapshot(edges, [normalizePool({ name: 'web', members: ['fra', 'nyc'], failOpen: false })]), 'web', 4, london);
  t.ok(closed.noData);
  t.same(closed.chosen, []);
});

t.test('pins send matching clients to their edges while one of them is up', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['fra', 'nyc', 'tyo'], pins: [{ match: 'country:GB', edges: ['nyc'] }, { match: 'continent:AS', edges: ['fra'] }] });
  const snap = snapshot([view(fra), view(nyc), view(tyo)], [pool]);
  const d = selectEdges(snap, 'web', 4, london);
  t.same(d.chosen, ['nyc']);
  t.equal(d.pin, 'country:GB');
  t.same(selectEdges(snap, 'web', 4, tokyo).chosen, ['fra'], 'continent pin');
  const pinnedDown = snapshot([view(fra), view(nyc, false), view(tyo)], [pool]);
  t.same(selectEdges(pinnedDown, 'web', 4, london).chosen, ['fra'], 'pinned edge down: the normal ranking');
  const cidr = normalizePool({ name: 'web', members: ['fra', 'nyc', 'tyo'], pins: [{ match: 'cidr:81.2.0.0/16', edges: ['tyo'] }] });
  t.same(selectEdges(snapshot([view(fra), view(nyc), view(tyo)], [cidr]), 'web', 4, london).chosen, ['tyo'], 'CIDR pin');
});

t.test('near-equal edges: weights share the clients, and each network keeps its edge', async (t) => {
  // fra and ams are about 360 km apart: from a client between them the estimates differ by less than the margin
  const between: Omit<ClientContext, 'networkKey'> = { location: { latitude: 51.2, longitude: 6.8 } };
  const pool = normalizePool({ name: 'web', members: ['fra', 'ams'] });
  const snap = snapshot([view(fra), view(ams)], [pool]);
  const counts = { fra: 0, ams: 0 };
  for (let i = 0; i < 400; i++) {
    const ctx = { ...between, networkKey: `10.${i >> 8}.${i & 255}.0/24` };
    const first = selectEdges(snap, 'web', 4, ctx).chosen[0] as 'fra' | 'ams';
    t.equal(selectEdges(snap, 'web', 4, ctx).chosen[0], first, 'same network, same edge');
    counts[first]++;
  }
  t.ok(counts.fra > 120 && counts.ams > 120, `equal weights share about evenly (${counts.fra}/${counts.ams})`);
  const weighted = snapshot([view({ ...fra, weight: 300 }), view(ams)], [pool]);
  let fraCount = 0;
  for (let i = 0; i < 400; i++) if (selectEdges(weighted, 'web', 4, { ...between, networkKey: `10.0.${i}.0/24` }).chosen[0] === 'fra') fraCount++;
  t.ok(fraCount > 240, `weight 300 vs 100 takes about three quarters (${fraCount}/400)`);
});

t.test('the edge bias moves the ranking; clients of unknown place go to the lowest penalty when it beats the margin', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['fra', 'nyc'] });
  t.same(selectEdges(snapshot([view({ ...fra, biasMs: 100 }), view(nyc)], [pool]), 'web', 4, london).chosen, ['nyc'], 'a large bias moves clients away');
  for (let i = 0; i < 20; i++) {
    const unknown: ClientContext = { networkKey: `unknown-${i}` };
    t.same(selectEdges(snapshot([view(fra, true, 80), view(nyc, true, 10)], [pool]), 'web', 4, unknown).chosen, ['nyc'], 'penalty 10 ms rather than 80 ms');
  }
});
