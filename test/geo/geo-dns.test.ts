// The user's story of geo routing, end to end with real parts: the test GeoIP database, three edges whose health
// endpoints are HTTP servers on loopback, a real node probing them, and dig asking with EDNS Client Subnet.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { dig, type DigResult } from '../helpers/dig.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { waitFor } from '../helpers/wait-for.js';
import { geoNodeOptions, HealthServer, writeTestDb } from './geo-helpers.js';

const ZONE = `$ORIGIN geo.test.
@       3600 IN SOA ns1.geo.test. hostmaster.geo.test. 1 3600 600 86400 60
@       3600 IN NS  ns1.geo.test.
ns1     3600 IN A   192.0.2.53
@         30 IN POOL web
www       60 IN POOL web
v4only    30 IN POOL web A
alias    300 IN CNAME www
static   300 IN A   192.0.2.80
`;

const EDGES = {
  fra: { ipv4: ['198.51.100.1'], ipv6: ['2001:db8::f1'], latitude: 50.11, longitude: 8.68 },
  nyc: { ipv4: ['198.51.100.2'], ipv6: ['2001:db8::a2'], latitude: 40.71, longitude: -74.0 },
  tyo: { ipv4: ['198.51.100.3'], ipv6: [], latitude: 35.68, longitude: 139.69 },
} as const;
const ADDRESS: Record<string, string> = { '198.51.100.1': 'fra', '198.51.100.2': 'nyc', '198.51.100.3': 'tyo', '2001:db8::f1': 'fra', '2001:db8::a2': 'nyc' };

function edgesOf(r: DigResult): string[] {
  return r.answer.filter((rr) => rr.type === 'A' || rr.type === 'AAAA').map((rr) => ADDRESS[rr.data] ?? rr.data).sort();
}

/** "81.2.69.0/24/24" as dig prints the echoed option: address/source/scope. */
function scopeOf(r: DigResult): number | undefined {
  const text = r.opt?.options['CLIENT-SUBNET'];
  const m = text ? /\/(\d+)\/(\d+)$/.exec(text.trim()) : null;
  return m ? Number(m[2]) : undefined;
}

type RouteVotes = { decision: { candidates: { edge: string; votes: { node: string; up: boolean }[] }[] } };

async function metric(node: TestNode, name: string, labels: string): Promise<number> {
  const text = (await node.api('GET', '/metrics', { key: null })).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

t.test('geo routing over DNS', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-geodb-'));
  const db = await writeTestDb(dir);
  const servers = { fra: await HealthServer.start(), nyc: await HealthServer.start(), tyo: await HealthServer.start() };
  const node = await startTestNode(geoNodeOptions({ zone: ZONE, zoneName: 'geo.test', geoip: db }));
  t.teardown(async () => {
    await node.close();
    for (const s of Object.values(servers)) await s.down();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [name, edge] of Object.entries(EDGES)) {
    const res = await node.api('PUT', `/v1/edges/${name}`, { body: { ...edge, check: { type: 'http', url: servers[name as keyof typeof servers].url } } });
    t.equal(res.status, 201, `edge ${name} created`);
  }
  const pool = await node.api('PUT', '/v1/pools/web', { body: { members: ['fra', 'nyc', 'tyo'], ttl: 20 } });
  t.equal(pool.status, 201, 'pool created');
  const ask = (name: string, subnet?: string, type = 'A'): Promise<DigResult> => dig(node.dnsPort, name, type, subnet ? { subnet } : {});

  await t.test('clients in different regions get their nearest edge, with a useful ECS scope', async (t) => {
    const cases: [string, string, string[], number][] = [
      ['81.2.69.0/24', 'A', ['fra'], 24], // London
      ['8.8.8.0/24', 'A', ['nyc'], 24], // Mountain View
      ['133.242.7.0/24', 'A', ['tyo'], 16], // Tokyo: the GeoIP network is a /16, so the answer holds for all of it
      ['1.1.1.0/24', 'A', ['tyo'], 24], // Sydney: Tokyo is nearest
      ['200.160.0.0/24', 'A', ['nyc'], 20], // Sao Paulo
      ['81.2.69.160/32', 'A', ['fra'], 24], // never /32 back, whatever the source
      ['81.2.70.0/28', 'A', ['fra'], 24], // a /28 GeoIP network: still at most /24
      ['2a00:1450:4001::/48', 'AAAA', ['fra'], 32],
      ['2600:1f00:1::/48', 'AAAA', ['nyc'], 24],
      ['2001:db8:abcd:1200::/64', 'AAAA', ['nyc'], 56], // at most /56 for IPv6
      ['133.242.7.0/24', 'AAAA', ['fra'], 16], // tyo has no IPv6: skipped for AAAA, next nearest
    ];
    for (const [subnet, type, want, scope] of cases) {
      const r = await ask('www.geo.test', subnet, type);
      t.equal(r.rcode, 'NOERROR', `${subnet} ${type} rcode`);
      t.same(edgesOf(r), want, `${subnet} ${type} → ${want.join(',')}`);
      t.equal(scopeOf(r), scope, `${subnet} ${type} scope /${scope}`);
      t.ok(r.answer.every((rr) => rr.ttl === 20), 'TTL is the pool TTL (lower than the RRset TTL 60)');
    }
    const tcp = await dig(node.dnsPort, 'www.geo.test', 'A', { subnet: '8.8.8.0/24', tcp: true });
    t.same(edgesOf(tcp), ['nyc'], 'the same over TCP');
    t.equal(scopeOf(tcp), 24);
  });

  await t.test('the apex, a CNAME to a pool name and an A-only pool RRset', async (t) => {
    t.same(edgesOf(await ask('geo.test', '81.2.69.0/24')), ['fra'], 'apex pool');
    const viaAlias = await ask('alias.geo.test', '8.8.8.0/24');
    t.equal(viaAlias.answer[0].type, 'CNAME');
    t.same(edgesOf(viaAlias), ['nyc'], 'CNAME then the pool');
    const noV6 = await ask('v4only.geo.test', '81.2.69.0/24', 'AAAA');
    t.equal(noV6.rcode, 'NOERROR');
    t.equal(noV6.answer.length, 0, 'A-only pool: NODATA for AAAA');
    t.equal(noV6.authority[0]?.type, 'SOA');
  });

  await t.test('static answers carry scope 0; a query without ECS gets an edge and no option', async (t) => {
    const s = await ask('static.geo.test', '81.2.69.0/24');
    t.same(s.answer.map((rr) => rr.data), ['192.0.2.80']);
    t.equal(scopeOf(s), 0, 'static answer: scope 0');
    const plain = await ask('www.geo.test');
    t.equal(plain.answer.length, 1, 'one edge for an unknown location (resolver on loopback)');
    t.notOk(plain.opt?.options['CLIENT-SUBNET'], 'no ECS in the reply to a query without it');
    const optOut = await ask('www.geo.test', '0.0.0.0/0');
    t.equal(optOut.answer.length, 1, 'source prefix 0 (RFC 7871 §7.1.2): answered by the resolver address');
    t.equal(scopeOf(optOut), 0, 'with scope 0');
    const priv = await ask('www.geo.test', '10.1.2.0/24');
    t.equal(priv.answer.length, 1, 'a private ECS address is no location, but still an answer');
    t.equal(scopeOf(priv), 0, 'and the answer does not depend on it: scope 0');
  });

  await t.test('the explain API matches the answer', async (t) => {
    for (const client of ['81.2.69.0/24', '8.8.8.0/24', '133.242.7.0/24']) {
      const r = await ask('www.geo.test', client);
      const ex = await node.api('GET', `/v1/route?name=www.geo.test&type=A&client=${encodeURIComponent(client)}`);
      t.equal(ex.status, 200);
      t.same(ex.body.answer, r.answer.map((rr) => rr.data), `${client}: explain gives the same answer`);
      t.equal(ex.body.client.scopePrefix, scopeOf(r), 'and the same scope');
      t.equal(ex.body.decision.candidates.length, 3, 'every candidate is listed');
      t.ok(ex.body.decision.candidates.every((c: { distanceKm?: number; up: boolean }) => typeof c.distanceKm === 'number' && c.up), 'with distance and health');
    }
    const bad = await node.api('GET', '/v1/route?name=www.geo.test&client=nope');
    t.equal(bad.status, 400);
    t.equal(bad.body.error.field, 'client');
    const pex = await node.api('GET', '/v1/pools/web/explain?client=8.8.8.8');
    t.same(pex.body.answer, ['198.51.100.2'], 'pool explain');
  });

  await t.test('an edge whose health check fails loses its clients within 3 intervals, and gets them back', async (t) => {
    const london = '81.2.69.0/24';
    t.same(edgesOf(await ask('www.geo.test', london)), ['fra']);
    const failsBefore = await metric(node, 'edgedns_probes_total', 'edge="fra",result="fail"');
    await servers.fra.down();
    const stopped = Date.now();
    const moved = await waitFor(async () => {
      const edges = edgesOf(await ask('www.geo.test', london));
      return edges[0] !== 'fra' && edges;
    }, { what: 'London to leave fra once its health server is down', timeoutMs: 5000 });
    const failoverMs = Date.now() - stopped;
    t.same(moved.value, ['nyc'], 'London moves to the next nearest edge');
    t.comment(`failover took ${failoverMs} ms at a 200 ms probe interval`);
    t.ok((await metric(node, 'edgedns_probes_total', 'edge="fra",result="fail"')) - failsBefore >= 3, 'only after 3 failed probes (hysteresis)');
    t.equal(await metric(node, 'edgedns_edge_up', 'edge="fra"'), 0, 'edge state metric says down');

    const okBefore = await metric(node, 'edgedns_probes_total', 'edge="fra",result="ok"');
    await servers.fra.up();
    const back = await waitFor(async () => {
      const edges = edgesOf(await ask('www.geo.test', london));
      return edges[0] === 'fra' && edges;
    }, { what: 'London to return to fra once it is up again', timeoutMs: 5000 });
    t.same(back.value, ['fra'], 'back to fra once it is up again');
    t.ok((await metric(node, 'edgedns_probes_total', 'edge="fra",result="ok"')) - okBefore >= 2, 'only after 2 good probes');
  });

  await t.test('every edge down: fail open with all of them, or NODATA when the pool says so', async (t) => {
    for (const s of Object.values(servers)) await s.down();
    const all = await waitFor(async () => {
      const edges = edgesOf(await ask('www.geo.test', '81.2.69.0/24'));
      return edges.length === 3 && edges;
    }, { what: 'every edge in the answer once all are down (fail open)', timeoutMs: 5000 });
    t.same(all.value, ['fra', 'nyc', 'tyo'], 'fail open: every address');
    t.ok((await metric(node, 'edgedns_geo_fail_open_total', 'pool="web"')) > 0, 'fail-open counted');
    const patched = await node.api('PATCH', '/v1/pools/web', { body: { failOpen: false } });
    t.equal(patched.status, 200);
    const closed = await ask('www.geo.test', '81.2.69.0/24');
    t.equal(closed.rcode, 'NOERROR');
    t.equal(closed.answer.length, 0, 'no fail-open: NODATA');
    t.equal(closed.authority[0]?.type, 'SOA');
    await node.api('PATCH', '/v1/pools/web', { body: { failOpen: true } });
    for (const s of Object.values(servers)) await s.up();
    const healed = await waitFor(async () => {
      const edges = edgesOf(await ask('www.geo.test', '81.2.69.0/24'));
      return edges.length === 1 && edges[0] === 'fra' && edges;
    }, { what: 'London back on fra alone once every edge is up', timeoutMs: 5000 });
    t.same(healed.value, ['fra'], 'recovered');
  });

  await t.test('one observer alone cannot take an edge down when two others see it up', async (t) => {
    const store = node.node.store;
    const others = async (up: boolean): Promise<void> => {
      for (const observer of ['node-b', 'node-c']) {
        const id = `health/${observer}`;
        const old = await store.get(id);
        await store.put({ _id: id, ...(old?._rev ? { _rev: old._rev } : {}), type: 'health', node: observer, updatedAt: Date.now(), intervalMs: 60_000, edges: { fra: { up, checkedAt: Date.now(), rttMs: 12 } } });
      }
    };
    await others(true);
    await servers.fra.down(); // this node's own link to fra is "broken"
    const ownDown = await waitFor(async () => {
      const ex = await node.api('GET', '/v1/route?name=www.geo.test&client=81.2.69.0/24');
      const fra = (ex.body as RouteVotes).decision.candidates.find((c) => c.edge === 'fra');
      return fra?.votes.find((v) => v.node === 'node-a' && !v.up) && fra;
    }, { what: 'this node to see fra down', timeoutMs: 5000 });
    t.ok(ownDown.value, 'this node sees fra down');
    t.equal(ownDown.value.votes.length, 3, 'three observers vote');
    t.same(edgesOf(await ask('www.geo.test', '81.2.69.0/24')), ['fra'], 'two up votes out of three keep fra in');
    await others(false);
    const gone = await waitFor(async () => {
      const edges = edgesOf(await ask('www.geo.test', '81.2.69.0/24'));
      return edges[0] !== 'fra' && edges;
    }, { what: 'fra to leave the answer once most observers see it down', timeoutMs: 3000 });
    t.same(gone.value, ['nyc'], 'when most observers see it down, it is down');
    await servers.fra.up();
  });
});
