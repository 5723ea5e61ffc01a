// A short run of the simulated world (bench/world): three nodes on 127.0.0.2-4 sharing one CouchDB-protocol server,
// eight edges on 127.0.1.x whose health endpoints answer after the model's delay for the node that asks, and client
// networks on five continents asked with ECS at every node. The acceptance points of latency steering: every node
// gives every client network the same edge; where the model's fastest edge is not the nearest, the fastest is
// answered; an edge most nodes cannot reach is answered by none, and a node that cannot reach an edge ranks it
// no nearer than the others do; a dead edge leaves every node's answers within 3 probe intervals, and its clients
// move, on every node alike, to the fastest edge left or one within the margin of it.

import t from 'tap';
import { fastestEdge, nearestEdge } from '../../bench/world/model.js';
import { agreeing, answerTable, settle, settledAt, verdict, watch } from '../../bench/world/observe.js';
import { World } from '../../bench/world/world.js';

// 1 s: short enough for a quick test, long enough that a loaded machine does not make fresh documents look stale
const INTERVAL_S = 1;
const MARGIN = { percent: 20, ms: 10 };

/** Polls `check` every 100 ms for at most 3 s; its first defined value. */
async function eventually<T>(check: () => Promise<T | undefined>): Promise<T | undefined> {
  for (let i = 0; i < 30; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

// the default 2 s timeout: on a loaded machine a probe's answer can be held back for a second
const world = await World.start({ probeIntervalS: INTERVAL_S, probeTimeoutS: 2, store: 'shared' });
t.teardown(() => world.close());

const steady = await settle(world, 30_000);

t.test('steady state: every node gives every client network the same edge', async (t) => {
  t.ok(steady, 'the answers settled within 30 s');
  if (!steady) return;
  t.comment(`\n${answerTable(world, steady.answers, MARGIN)}`);
  t.ok(agreeing(steady.answers), 'all three nodes agree for every network');
  const continents = new Set(world.clients.map((c) => c.continent));
  t.ok(continents.size >= 5, `client networks on ${continents.size} continents`);
  for (const row of steady.answers.values()) t.equal(row.size, world.clients.length, 'every network answered');
  // the same documents give the same number; a steady RTT written a moment ago may not have reached every node yet
  const penalties = await eventually(async () => {
    const values = await Promise.all(world.nodes.map(async (n) => /edgedns_edge_penalty_seconds\{edge="lon"\} (\S+)/.exec(await n.running.registry.metrics())?.[1]));
    return values[0] !== undefined && values.every((p) => p === values[0]) ? values : undefined;
  });
  t.ok(penalties, `every node reports the same penalty for lon (${penalties?.join(', ')} s)`);
  const kept = /edgedns_geo_snapshots_total\{decisions="same"\} (\S+)/.exec(await world.nodes[0].running.registry.metrics())?.[1];
  t.ok(Number(kept) > 0, `health writes that change no input keep the answer caches (${kept} snapshots)`);
});

t.test('where the fastest edge is not the nearest, the fastest is answered', async (t) => {
  if (!steady) return t.fail('no steady state');
  const differing = world.clients.filter((c) => fastestEdge(c, world.faults).name !== nearestEdge(c, world.faults).name);
  t.ok(differing.length >= 2, `the model has such clients (${differing.map((c) => c.city).join(', ')})`);
  for (const c of differing) {
    for (const n of world.nodes) t.equal(steady.answers.get(n.node.id)?.get(c.network), fastestEdge(c, world.faults).name, `${c.city} at ${n.node.id}: ${fastestEdge(c, world.faults).name}, not the nearer ${nearestEdge(c, world.faults).name}`);
  }
  for (const c of world.clients.filter((x) => !differing.includes(x))) {
    t.equal(steady.answers.get('node-eu')?.get(c.network), nearestEdge(c, world.faults).name, `${c.city}: the nearest, which is also the fastest`);
  }
  const london = world.clients.find((c) => c.city === 'London');
  if (!london) return t.fail('no London client');
  const route = await world.route(world.nodes[1], london);
  const lon = route.decision.candidates.find((c) => c.edge === 'lon');
  t.match(route.decision.steering, [{ anchor: 'lon', best: 'fra', chosen: 'fra' }], '/v1/route: nearest lon, fastest fra, and fra taken');
  t.same(lon?.votes.map((v) => v.node), ['node-ap', 'node-eu', 'node-us'], 'lon\'s penalty comes from all three observers');
  t.ok((lon?.penaltyMs ?? 0) > 50, `and shows its detour (${lon?.penaltyMs} ms)`);
  t.same(route.decision.margin, { percent: 20, ms: 10, rounds: 3 }, 'with the margin it was held to');
});

t.test('an edge that most nodes cannot reach is answered by none; a node that cannot reach an edge does not favour it', async (t) => {
  if (!steady) return t.fail('no steady state');
  for (const [node, row] of steady.answers) t.notOk([...row.values()].includes('ams'), `${node} answers nobody with ams (reachable from node-eu only)`);
  const falkenstein = world.clients.find((c) => c.city === 'Falkenstein');
  if (!falkenstein) return t.fail('no Falkenstein client');
  for (const n of world.nodes) {
    const route = await world.route(n, falkenstein);
    const ams = route.decision.candidates.find((c) => c.edge === 'ams');
    t.equal(ams?.up, false, `${n.node.id}: ams is down by the majority`);
    t.ok(ams?.votes.filter((v) => v.node !== 'node-eu').every((v) => v.up === false && v.penaltyMs === 1000), `${n.node.id}: the nodes without a route count it as far`);
    t.notSame(route.decision.chosen, ['ams'], `${n.node.id}: Falkenstein is not sent to ams`);
  }
  const iad = await eventually(async () => {
    const values = await Promise.all(world.nodes.map(async (n) => (await world.route(n, falkenstein)).decision.candidates.find((c) => c.edge === 'iad')?.penaltyMs));
    return new Set(values).size === 1 ? values : undefined;
  });
  t.ok(iad, `every node computes the same penalty for iad (${iad?.join(', ')} ms)`);
});

t.test('a dead edge leaves every node\'s answers within 3 probe intervals, and the nodes agree on what replaces it', async (t) => {
  if (!steady) return t.fail('no steady state');
  // iad: New York and Mountain View move to edges clearly ahead of the rest (fra and sfo), no near tie
  await world.killEdge('iad');
  const gone = (row: Map<string, string>): boolean => ![...row.values()].includes('iad');
  const polls = await watch(world, 8 * INTERVAL_S * 1000, 100, (poll) => [...poll.answers.values()].every(gone));
  // half a second more for a loaded machine, where timers run late
  const bound = 3 * INTERVAL_S * 1000 + 500;
  for (const n of world.nodes) {
    const at = settledAt(polls, n.node.id, gone);
    t.ok(at !== undefined && at <= bound, `${n.node.id}: iad out after ${at === undefined ? 'never' : (at / 1000 / INTERVAL_S).toFixed(1)} intervals`);
  }
  const after = await eventually(async () => {
    const answers = await world.answers();
    return agreeing(answers) ? answers : undefined;
  });
  t.ok(after, 'all nodes agree again');
  for (const c of world.clients.filter((x) => steady.answers.get('node-eu')?.get(x.network) === 'iad')) {
    const got = after?.get('node-eu')?.get(c.network) ?? '?';
    // New York: lon would be 7 ms faster than fra for North American clients only, which no observer's median can see
    const ok = t.not(verdict(c, got, world.faults, MARGIN), 'NO', `${c.city} moves to ${got}: the fastest left, or within the margin of it (${fastestEdge(c, world.faults).name})`);
    // Rare, seen only in the full suite on a loaded machine: say what every node answered and why node-eu chose
    const eu = world.nodes.find((n) => n.node.id === 'node-eu');
    if (!ok && after && eu) t.comment(`\n${answerTable(world, after, MARGIN)}\nnode-eu /v1/route: ${JSON.stringify((await world.route(eu, c)).decision)}`);
  }
});
