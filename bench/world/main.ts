// npm run bench:world — latency steering on a simulated world (model.ts): three nodes, eight edges, seven client
// networks on five continents. Prints the model's round trips, what every node answers every network beside the
// model's nearest and fastest edge, a worked /v1/route example; then kills an edge, slows one down and partitions
// one node's view, with the time every node takes to converge and whether they agree at every poll; then counts the
// decision changes per client network over a run with jittery RTTs (target: none).
//
// Environment: WORLD_PROBE_INTERVAL (s, default 2), WORLD_JITTER_SECONDS (default 300), WORLD_STORE (shared: one
// CouchDB-protocol server for the three nodes, the default; mesh: one per node, replicating both ways, which adds
// replication lag and three busy processes).

import { fastestEdge, type WorldClient } from './model.js';
import { agreeing, answerTable, delayTable, settle, settledAt, watch, type Poll } from './observe.js';
import { World, type Answers, type RouteExplanation } from './world.js';

const INTERVAL_S = Number(process.env.WORLD_PROBE_INTERVAL ?? 2);
const JITTER_S = Number(process.env.WORLD_JITTER_SECONDS ?? 300);
const STORE = process.env.WORLD_STORE === 'mesh' ? 'mesh' : 'shared';
const SETTLE_INTERVALS = 40;
const MARGIN = { percent: 20, ms: 10 };
const out = (text: string): void => void process.stdout.write(text);

function intervals(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${(ms / 1000).toFixed(2)} s = ${(ms / 1000 / INTERVAL_S).toFixed(1)} intervals`;
}

/** Polls where the nodes disagreed, and the longest run of them. */
function disagreement(polls: Poll[]): string {
  let count = 0;
  let longest = 0;
  let since: number | undefined;
  for (const [i, p] of polls.entries()) {
    if (agreeing(p.answers)) {
      since = undefined;
      continue;
    }
    count++;
    since ??= p.atMs;
    longest = Math.max(longest, (polls[i + 1]?.atMs ?? p.atMs) - since);
  }
  return count === 0 ? `all nodes agreed at all ${polls.length} polls` : `nodes disagreed at ${count} of ${polls.length} polls (longest stretch ${(longest / 1000).toFixed(2)} s)`;
}

/**
 * Waits for the answers to settle and prints them; the answers. When they do not settle (a client near the margin,
 * on a loaded machine), says which answers kept changing and goes on with the last ones.
 */
async function steady(world: World, what: string): Promise<Answers> {
  const settled = await settle(world, SETTLE_INTERVALS * INTERVAL_S * 1000);
  if (settled) {
    out(`${what}: answers unchanged and agreed from ${(settled.afterMs / 1000).toFixed(1)} s on\n${answerTable(world, settled.answers, MARGIN)}\n`);
    return settled.answers;
  }
  const polls = await watch(world, 20 * INTERVAL_S * 1000, INTERVAL_S * 500);
  const flips = new Map<string, Set<string>>();
  for (let i = 1; i < polls.length; i++) {
    for (const [node, row] of polls[i].answers) {
      for (const [network, edge] of row) {
        const was = polls[i - 1].answers.get(node)?.get(network);
        if (was !== edge) flips.set(`${network} at ${node}`, new Set([...(flips.get(`${network} at ${node}`) ?? []), `${was}→${edge}`]));
      }
    }
  }
  const last = polls[polls.length - 1].answers;
  out(`${what}: NOT SETTLED within ${SETTLE_INTERVALS} intervals; over the next ${20 * INTERVAL_S} s these answers changed: ${[...flips].map(([k, v]) => `${k} (${[...v].join(', ')})`).join('; ') || 'none'}; ${disagreement(polls)}\n${answerTable(world, last, MARGIN)}\n`);
  return last;
}

/** Watches until every node answers `client` with `edge`; prints how long each node took. */
async function untilAnswered(world: World, client: WorldClient, edge: string, maxIntervals: number): Promise<void> {
  const polls = await watch(world, maxIntervals * INTERVAL_S * 1000, 100, (p) => [...p.answers.values()].every((row) => row.get(client.network) === edge));
  for (const n of world.nodes) out(`  ${n.node.id}: ${client.city} sent to ${edge} after ${intervals(settledAt(polls, n.node.id, (row) => row.get(client.network) === edge))}\n`);
  out(`  ${disagreement(polls)}\n`);
}

function workedExample(route: RouteExplanation): string {
  const lines = ['EDGE  DISTANCE  GEOGRAPHY  VOTES (steady RTT − baseline = penalty)                          PENALTY  EXPECTED'];
  for (const c of route.decision.candidates) {
    if (c.scoreMs === null) {
      lines.push(`${c.edge.padEnd(4)}  ${c.excluded ?? ''}`);
      continue;
    }
    const votes = c.votes.map((v) => `${v.node.replace('node-', '')} ${v.up ? `${v.steadyRttMs?.toFixed(0)}−${v.baselineMs?.toFixed(0)}=${v.penaltyMs?.toFixed(0)}` : 'down=1000'}`).join(', ');
    lines.push(`${c.edge.padEnd(4)}  ${`${c.distanceKm} km`.padEnd(8)}  ${`${c.geoScoreMs} ms`.padEnd(9)}  ${votes.padEnd(62)}  ${`${c.penaltyMs} ms`.padEnd(7)}  ${c.scoreMs} ms`);
  }
  for (const s of route.decision.steering) lines.push(`steering: nearest ${s.anchor}, fastest ${s.best}, saving ${s.gainMs} ms against ${s.neededMs} ms needed → ${s.chosen}`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const started = Date.now();
  out(`world: probe interval ${INTERVAL_S} s, store ${STORE === 'mesh' ? 'three CouchDB-protocol servers meshed by cluster join' : 'one shared CouchDB-protocol server'}\n`);
  // the default 2 s timeout: a loaded machine can hold a probe's answer back for a second
  const world = await World.start({ probeIntervalS: INTERVAL_S, probeTimeoutS: 2, store: STORE, seed: 16 });
  try {
    out(`\nround trips the edges serve, by the node that asks (model):\n${delayTable(world)}\n`);
    let current = await steady(world, 'steady state');

    const london = world.clients.find((c) => c.city === 'London');
    if (london) {
      out(`worked example: /v1/route on node-us for ${london.network} (${london.city})\n`);
      out(workedExample(await world.route(world.nodes[1], london)) + '\n');
    }

    // 1. an edge dies
    out('fault 1: fra dies\n');
    await world.killEdge('fra');
    let polls = await watch(world, 10 * INTERVAL_S * 1000, 100, (p) => [...p.answers.values()].every((row) => ![...row.values()].includes('fra')));
    for (const n of world.nodes) out(`  ${n.node.id}: no client sent to fra after ${intervals(settledAt(polls, n.node.id, (row) => ![...row.values()].includes('fra')))}\n`);
    out(`  ${disagreement(polls)}\n`);
    await steady(world, 'with fra dead');
    await world.reviveEdge('fra');
    current = await steady(world, 'fra back');

    // 2. an edge slows down for everyone
    const sydney = world.clients.find((c) => c.city === 'Sydney');
    if (sydney) {
      out('fault 2: syd 150 ms slower for everyone\n');
      world.faults.slower.set('syd', 150);
      await untilAnswered(world, sydney, fastestEdge(sydney, world.faults).name, 20);
      await steady(world, 'with syd slow');
      out('syd fast again\n');
      world.faults.slower.delete('syd');
      await untilAnswered(world, sydney, 'syd', 20);
      current = await steady(world, 'with syd fast again');
    }

    // 3. one node's view partitioned: it cannot reach the European edges
    out('fault 3: node-ap loses its routes to lon, ams and fra\n');
    const before = current;
    world.faults.cut.set('node-ap', new Set(['lon', 'ams', 'fra']));
    polls = await watch(world, 10 * INTERVAL_S * 1000, INTERVAL_S * 250);
    const differences = new Map<string, number>();
    for (const p of polls) {
      for (const n of world.nodes) {
        for (const c of world.clients) {
          const was = before.get(n.node.id)?.get(c.network);
          const now = p.answers.get(n.node.id)?.get(c.network);
          if (now !== was) differences.set(`${c.city} at ${n.node.id}: ${was} → ${now}`, (differences.get(`${c.city} at ${n.node.id}: ${was} → ${now}`) ?? 0) + 1);
        }
      }
    }
    out(`  over ${10 * INTERVAL_S} s: ${differences.size === 0 ? 'no answer changed on any node' : 'answers that changed:'}\n`);
    for (const [what, count] of differences) out(`    ${what} (at ${count} of ${polls.length} polls)\n`);
    out(`  ${disagreement(polls)}\n`);
    world.faults.cut.clear();
    current = await steady(world, 'node-ap healed');

    // 4. nothing changes but the RTTs jitter
    const jitter = { ratio: 0.15, spikeRate: 0.03 };
    out(`jitter: every probe's delay ×(1 ± ${jitter.ratio}), ×1.5 for ${jitter.spikeRate * 100} % of probes, for ${JITTER_S} s\n`);
    world.jitter = jitter;
    const changes = new Map<string, number>();
    const why: string[] = [];
    let previous = current;
    polls = await watch(world, JITTER_S * 1000, 2000, (p) => {
      for (const n of world.nodes) {
        for (const c of world.clients) {
          const was = previous.get(n.node.id)?.get(c.network);
          const now = p.answers.get(n.node.id)?.get(c.network);
          if (now === was) continue;
          const key = `${c.network} at ${n.node.id}`;
          changes.set(key, (changes.get(key) ?? 0) + 1);
          // why, as that node explains it now (after the fact: the inputs may have moved on again)
          void world.route(n, c).then(
            (r) => why.push(`    ${(p.atMs / 1000).toFixed(0)} s ${key}: ${was} → ${now}; now ${r.decision.candidates.filter((x) => x.edge === was || x.edge === now).map((x) => `${x.edge} ${x.up ? 'up' : 'down'} penalty ${x.penaltyMs} expected ${x.scoreMs}`).join(', ')}; ${JSON.stringify(r.decision.steering)}`),
            (err: Error) => why.push(`    ${key}: ${err.message}`),
          );
        }
      }
      previous = p.answers;
      return false;
    });
    world.jitter = undefined;
    const total = [...changes.values()].reduce((a, b) => a + b, 0);
    out(`  ${polls.length} polls of ${world.clients.length} networks at ${world.nodes.length} nodes: ${total} decision changes${total === 0 ? ' (0 for every client network at every node)' : ''}\n`);
    for (const [key, count] of changes) out(`    ${key}: ${count}\n`);
    if (why.length > 0) out(`  each change, with the inputs as the node showed them just after:\n${why.join('\n')}\n`);
    out(`  ${disagreement(polls)}\n`);
    out(`\nworld bench done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    await world.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
