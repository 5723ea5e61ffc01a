// Latency steering as pure functions over health documents: every node ranks edges from the same median of its
// observers' penalties, so nodes holding the same documents answer alike (a restarted one too); one node's spike or
// broken link moves nothing; an edge nobody measured is never taken for near; a client leaves its nearest edge only
// for one faster by the pool's margin; and an observer's steady RTT ignores jitter but follows a lasting change.

import { pino } from 'pino';
import t from 'tap';
import { normalizeEdge, normalizePool, type EdgeFields, type PoolFields } from '../../src/geo/edge-docs.js';
import { GeoState } from '../../src/geo/geo-state.js';
import type { EdgeObservation, HealthDoc, ObserverLocation } from '../../src/geo/health-docs.js';
import { estimateMs, greatCircleKm, selectEdges, type ClientContext } from '../../src/geo/selection.js';
import { medianPenalty, scoreVote, UNKNOWN_PENALTY_MS } from '../../src/geo/shared-latency.js';
import { advanceSteady, type SteadyRtt } from '../../src/geo/steady-rtt.js';

const logger = pino({ level: 'silent' });
const NOW = 1_700_000_000_000;
const INTERVAL = 1000;

const NODES: Record<string, ObserverLocation> = {
  eu: { latitude: 50.11, longitude: 8.68 }, // Frankfurt
  us: { latitude: 39.04, longitude: -77.49 }, // Ashburn
  ap: { latitude: 1.29, longitude: 103.85 }, // Singapore
};

const edge = (name: string, latitude: number, longitude: number, n: number): EdgeFields =>
  normalizeEdge({ name, ipv4: [`198.51.100.${n}`], latitude, longitude, check: `http://127.0.0.1:9/${name}` });
const lon = edge('lon', 51.51, -0.13, 1);
const fra = edge('fra', 50.11, 8.68, 2);
const fra2 = edge('fra2', 50.12, 8.69, 3);
const ams = edge('ams', 52.37, 4.9, 4);
const iad = edge('iad', 39.04, -77.49, 5);

const london: ClientContext = { location: { latitude: 51.51, longitude: -0.09, country: 'GB', continent: 'EU' }, networkKey: '81.2.69.0/24' };

/** A world's RTT: geography's estimate plus `extra[edge]` for every observer. */
function rtt(node: string, e: EdgeFields, extra: Record<string, number> = {}): number {
  return estimateMs(greatCircleKm(NODES[node], { latitude: e.latitude as number, longitude: e.longitude as number })) + (extra[e.name] ?? 0);
}

type Seen = Record<string, Record<string, EdgeObservation>>;

/** What every node observes: up with the world's RTT, except where `seen` says otherwise. */
function observations(edges: EdgeFields[], extra: Record<string, number> = {}, seen: Seen = {}): Seen {
  const all: Seen = {};
  for (const node of Object.keys(NODES)) {
    all[node] = {};
    for (const e of edges) {
      const ms = Math.round(rtt(node, e, extra) * 1000) / 1000;
      all[node][e.name] = seen[node]?.[e.name] ?? { up: true, rttMs: ms, steadyRttMs: ms, checkedAt: NOW - 100 };
    }
  }
  return all;
}

/** Node `self`'s state: every node's document, and (unless it has just restarted) its own probe view in memory. */
function nodeState(self: string, edges: EdgeFields[], pools: PoolFields[], seen: Seen, options: { restarted?: boolean; now?: number } = {}): GeoState {
  const state = new GeoState({ nodeId: self, intervalMs: INTERVAL, logger, location: NODES[self], now: () => options.now ?? NOW });
  for (const e of edges) state.edges.set(e.name, e);
  for (const p of pools) state.pools.set(p.name, p);
  for (const [node, edgesSeen] of Object.entries(seen)) {
    const doc: HealthDoc = { _id: `health/${node}`, type: 'health', node, updatedAt: NOW - 200, intervalMs: INTERVAL, location: NODES[node], edges: edgesSeen };
    state.health.set(node, doc);
  }
  if (!options.restarted) state.setOwnObservations(new Map(Object.entries(seen[self])));
  state.rebuild();
  return state;
}

function chosenEverywhere(edges: EdgeFields[], pool: PoolFields, seen: Seen, client: ClientContext): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const node of Object.keys(NODES)) out[node] = selectEdges(nodeState(node, edges, [pool], seen).snapshot, pool.name, 4, client).chosen;
  return out;
}

t.test('an observer\'s penalty is its RTT less what its own distance explains; unknown and down count as far', async (t) => {
  const vote = { node: 'eu', up: true, rttMs: 90, steadyRttMs: 80, ageMs: 0, fresh: true, location: NODES.eu };
  const scored = scoreVote(vote, { latitude: 51.51, longitude: -0.13 });
  const baseline = estimateMs(greatCircleKm(NODES.eu, { latitude: 51.51, longitude: -0.13 }));
  t.equal(scored.baselineMs, Math.round(baseline * 100) / 100, 'baseline: the estimate from Frankfurt to London');
  t.equal(scored.penaltyMs, Math.round((80 - baseline) * 100) / 100, 'the steady RTT counts, not the running average');
  t.equal(scoreVote({ ...vote, steadyRttMs: 3 }, { latitude: 51.51, longitude: -0.13 }).penaltyMs, 0, 'never below zero');
  t.equal(scoreVote({ ...vote, location: undefined }, { latitude: 51.51, longitude: -0.13 }).penaltyMs, 20, 'an observer of unknown place: a quarter of its RTT');
  t.equal(scoreVote({ ...vote, up: false }, undefined).penaltyMs, UNKNOWN_PENALTY_MS, 'sees it down: far');
  t.equal(scoreVote({ node: 'x', up: true, ageMs: 0, fresh: true }, undefined).penaltyMs, UNKNOWN_PENALTY_MS, 'never measured: far');
  t.equal(scoreVote({ ...vote, fresh: false }, undefined).penaltyMs, undefined, 'a stale vote does not count');
  const p = (penaltyMs: number | undefined) => ({ node: 'n', up: true, ageMs: 0, fresh: penaltyMs !== undefined, penaltyMs });
  t.equal(medianPenalty([p(5), p(400), p(7)]), 7, 'one spike out of three moves nothing');
  t.equal(medianPenalty([p(5), p(UNKNOWN_PENALTY_MS), p(7)]), 7, 'nor does one broken link');
  t.equal(medianPenalty([p(5), p(9)]), 7, 'even count: the mean of the middle two');
  t.equal(medianPenalty([p(undefined)]), UNKNOWN_PENALTY_MS, 'no fresh observer: far');
});

t.test('a GeoIP-nearer edge that is slower for every observer loses its clients, on every node alike', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['lon', 'fra', 'iad'] });
  const edges = [lon, fra, iad];
  const plain = chosenEverywhere(edges, pool, observations(edges), london);
  t.same(plain, { eu: ['lon'], us: ['lon'], ap: ['lon'] }, 'London goes to lon while its route is straight');
  const detour = observations(edges, { lon: 70 });
  t.same(chosenEverywhere(edges, pool, detour, london), { eu: ['fra'], us: ['fra'], ap: ['fra'] }, 'lon 70 ms slower for everyone: fra, on all three nodes');
  const d = selectEdges(nodeState('eu', edges, [pool], detour).snapshot, 'web', 4, london);
  t.match(d.steering, [{ anchor: 'lon', best: 'fra', chosen: 'fra' }], 'the steering step names the nearest and the fastest');
  t.ok(d.steering[0].gainMs > d.steering[0].neededMs, `fra saves ${d.steering[0].gainMs} ms, more than the ${d.steering[0].neededMs} ms needed`);
  const small = observations(edges, { lon: 12 });
  t.same(chosenEverywhere(edges, pool, small, london), { eu: ['lon'], us: ['lon'], ap: ['lon'] }, '12 ms slower is inside the margin: London stays on lon');
  const eager = { ...pool, marginPercent: 0, marginMs: 0 };
  t.same(chosenEverywhere(edges, eager, small, london), { eu: ['fra'], us: ['fra'], ap: ['fra'] }, 'with no margin, any gain moves it');
  const stubborn = { ...pool, marginPercent: 100 };
  t.same(chosenEverywhere(edges, stubborn, detour, london), { eu: ['lon'], us: ['lon'], ap: ['lon'] }, 'a 100 % margin never leaves the nearest edge');
});

t.test('one node\'s RTT spike to one of two equally near edges moves no client on any node', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['fra', 'fra2'] });
  const edges = [fra, fra2];
  const before: Record<string, Record<string, string>> = {};
  const after: Record<string, Record<string, string>> = {};
  const normal = observations(edges);
  const spiked = observations(edges, {}, { eu: { fra2: { up: true, rttMs: 2 * rtt('eu', fra2) + 40, steadyRttMs: 2 * rtt('eu', fra2) + 40, checkedAt: NOW - 100 } } });
  for (const node of Object.keys(NODES)) {
    const a = nodeState(node, edges, [pool], normal).snapshot;
    const b = nodeState(node, edges, [pool], spiked).snapshot;
    before[node] = {};
    after[node] = {};
    for (let i = 0; i < 60; i++) {
      const client = { ...london, networkKey: `81.2.${i}.0/24` };
      before[node][client.networkKey] = selectEdges(a, 'web', 4, client).chosen[0];
      after[node][client.networkKey] = selectEdges(b, 'web', 4, client).chosen[0];
    }
  }
  t.same(after.eu, before.eu, 'the node that saw the spike answers as before');
  t.same(after.us, before.eu, 'and as the others');
  t.same(after.ap, before.eu);
  const shares = Object.values(before.eu);
  t.ok(shares.includes('fra') && shares.includes('fra2'), 'the two near-equal edges still share the networks');
});

t.test('an edge a node cannot reach, or nobody has measured, is never taken for near', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['fra', 'ams'] });
  const edges = [fra, ams];
  // from Düsseldorf ams is a little nearer than fra
  const client: ClientContext = { location: { latitude: 51.23, longitude: 6.78 }, networkKey: '5.9.0.0/24' };
  const reachable = observations(edges);
  const ap = nodeState('ap', edges, [pool], reachable).snapshot;
  const amsPenalty = ap.edges.get('ams')?.penaltyMs as number;
  const cut = observations(edges, {}, { ap: { ams: { up: false, checkedAt: NOW - 100 } } });
  for (const node of Object.keys(NODES)) {
    const snap = nodeState(node, edges, [pool], cut).snapshot;
    t.ok((snap.edges.get('ams')?.penaltyMs as number) >= amsPenalty, `${node}: ams is no nearer for ap's broken link`);
    t.ok(snap.edges.get('ams')?.up, `${node}: and still up (one observer of three)`);
  }
  const unmeasured = observations([fra]);
  for (const node of Object.keys(NODES)) {
    const snap = nodeState(node, edges, [pool], unmeasured).snapshot;
    t.equal(snap.edges.get('ams')?.penaltyMs, UNKNOWN_PENALTY_MS, `${node}: ams, never measured, is far`);
    t.same(selectEdges(snap, 'web', 4, client).chosen, ['fra'], `${node}: the measured edge wins although ams is nearer`);
  }
});

t.test('a node that has just restarted answers as the others, from its own document', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['lon', 'fra', 'iad'] });
  const edges = [lon, fra, iad];
  const seen = observations(edges, { lon: 70 });
  const running = nodeState('eu', edges, [pool], seen).snapshot;
  const restarted = nodeState('eu', edges, [pool], seen, { restarted: true }).snapshot;
  for (const name of ['lon', 'fra', 'iad']) {
    t.equal(restarted.edges.get(name)?.penaltyMs, running.edges.get(name)?.penaltyMs, `${name}: the same penalty before its first probe round`);
    t.same(restarted.edges.get(name)?.votes.map((v) => v.node), ['ap', 'eu', 'us'], `${name}: its document votes for it`);
  }
  t.same(selectEdges(restarted, 'web', 4, london).chosen, selectEdges(running, 'web', 4, london).chosen);
});

t.test('a rebuild that changes only vote ages keeps the epoch (and the answer caches); a new penalty does not', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['lon', 'fra'] });
  const edges = [lon, fra];
  const state = nodeState('eu', edges, [pool], observations(edges));
  const epoch = state.snapshot.epoch;
  state.setOwnObservations(new Map(Object.entries(observations(edges).eu).map(([k, v]) => [k, { ...v, rttMs: (v.rttMs as number) + 1, checkedAt: NOW }])));
  t.equal(state.snapshot.epoch, epoch, 'a new running average under the same steady RTT: same epoch');
  const slower = observations(edges, { lon: 100 });
  state.setOwnObservations(new Map(Object.entries(slower.eu)));
  t.equal(state.snapshot.epoch, epoch, 'this node alone sees lon slower: the median, and the epoch, stay');
  for (const node of ['us', 'ap']) state.health.set(node, { ...(state.health.get(node) as HealthDoc), edges: slower[node] });
  state.rebuild();
  t.not(state.snapshot.epoch, epoch, 'most observers do: a new penalty, a new epoch');
});

t.test('steady RTT: jitter inside the margin never moves it; a change that lasts moves it to the new level', async (t) => {
  const margin = { percent: 20, ms: 10, rounds: 3 };
  const s: SteadyRtt = {};
  t.ok(advanceSteady(s, 100, margin), 'the first sample is taken as it is');
  let seed = 42;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let moves = 0;
  for (let i = 0; i < 2000; i++) if (advanceSteady(s, 100 * (0.82 + 0.36 * random()), margin)) moves++;
  t.equal(moves, 0, '2,000 rounds of ±18 % jitter: no move');
  t.equal(s.steadyRttMs, 100);
  t.notOk(advanceSteady(s, 150, margin), 'beyond the margin once: held');
  t.notOk(advanceSteady(s, 105, margin), 'back inside: the count starts again');
  t.notOk(advanceSteady(s, 150, margin));
  t.notOk(advanceSteady(s, 149, margin), 'twice in a row: held');
  t.ok(advanceSteady(s, 153, margin), 'the third sample in a row: moved');
  t.equal(s.steadyRttMs, 150, 'to the median of the three, the new level');
  t.notOk(advanceSteady(s, 250, margin), 'above');
  t.notOk(advanceSteady(s, 90, margin), 'then below: the count starts again');
  t.notOk(advanceSteady(s, 90, margin));
  t.ok(advanceSteady(s, 91, margin), 'three below in a row');
  t.equal(s.steadyRttMs, 90);
  t.notOk(advanceSteady(s, 99, margin), 'within 10 ms (more than 20 % of 90): never counts');
});

t.test('a client of unknown place is taken to be where the answering node is', async (t) => {
  const pool = normalizePool({ name: 'web', members: ['fra', 'iad'] });
  const edges = [fra, iad];
  const nowhere: ClientContext = { networkKey: 'unknown' };
  for (const [node, nearest] of [['eu', 'fra'], ['us', 'iad']]) {
    const d = selectEdges(nodeState(node, edges, [pool], observations(edges)).snapshot, 'web', 4, nowhere);
    t.same(d.chosen, [nearest], `asked at node ${node}: ${nearest}`);
    t.equal(d.from, 'node', 'distances from the node');
  }
  const placed = selectEdges(nodeState('us', edges, [pool], observations(edges)).snapshot, 'web', 4, london);
  t.equal(placed.from, 'client', 'a placed client is ranked from where it is');
  t.same(placed.chosen, ['fra']);
});
