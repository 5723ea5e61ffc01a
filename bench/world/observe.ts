// Watching the world: what every node answers every client network, poll after poll; when the answers settle; whether
// the nodes agree; and the table that sets the answers beside the model's nearest and fastest edges.

import { greatCircleKm } from '../../src/geo/distance.js';
import { clientLatencyMs, EDGES, fastestEdge, nearestEdge, probeDelayMs, NODES, type Faults, type WorldClient } from './model.js';
import type { Answers, World } from './world.js';

export interface Poll {
  /** ms since the watch began. */
  atMs: number;
  answers: Answers;
}

/** Whether every node gives every client the same answer. */
export function agreeing(answers: Answers): boolean {
  const rows = [...answers.values()];
  return rows.every((row) => [...row].every(([network, edge]) => rows[0].get(network) === edge));
}

function sameAnswers(a: Answers, b: Answers): boolean {
  for (const [node, row] of a) for (const [network, edge] of row) if (b.get(node)?.get(network) !== edge) return false;
  return true;
}

/**
 * Polls every `everyMs` for at most `maxMs` (and at most 10,000 polls), until `done` says so. Each poll asks every
 * client at every node.
 */
export async function watch(world: World, maxMs: number, everyMs: number, done: (poll: Poll, polls: Poll[]) => boolean = () => false): Promise<Poll[]> {
  const polls: Poll[] = [];
  const started = performance.now();
  for (let i = 0; i < 10_000 && performance.now() - started < maxMs; i++) {
    const began = performance.now();
    const poll = { atMs: began - started, answers: await world.answers() };
    polls.push(poll);
    if (done(poll, polls)) break;
    await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (performance.now() - began))));
  }
  return polls;
}

/**
 * Waits until all nodes agree and their answers have not changed for `stableMs` (default 6 probe intervals: longer
 * than a change takes to pass the margin's rounds); the last answers and when they began, or undefined.
 */
export async function settle(world: World, maxMs: number, stableMs = 6 * world.intervalMs): Promise<{ answers: Answers; afterMs: number } | undefined> {
  const stableSince = (all: Poll[]): number | undefined => {
    const last = all[all.length - 1];
    let since: number | undefined;
    for (let i = all.length - 1; i >= 0 && agreeing(all[i].answers) && sameAnswers(all[i].answers, last.answers); i--) since = all[i].atMs;
    return since;
  };
  const polls = await watch(world, maxMs, world.intervalMs / 2, (poll, all) => {
    const since = stableSince(all);
    return since !== undefined && poll.atMs - since >= stableMs;
  });
  const last = polls[polls.length - 1];
  const since = stableSince(polls);
  if (!last || since === undefined || last.atMs - since < stableMs) return undefined;
  return { answers: last.answers, afterMs: since };
}

/**
 * Per node, when `holds` became true of its answers for good: the time of the first poll from which it held at every
 * later poll (undefined if it did not hold at the last one).
 */
export function settledAt(polls: Poll[], node: string, holds: (row: Map<string, string>) => boolean): number | undefined {
  let since: number | undefined;
  for (const poll of polls) {
    const row = poll.answers.get(node);
    if (row && holds(row)) since ??= poll.atMs;
    else since = undefined;
  }
  return since;
}

export type Verdict = 'yes' | '≈' | 'NO';

/**
 * Whether the answer is the model's fastest edge: 'yes'; '≈' when it is slower by no more than the pool's margin
 * (steering leaves such a client where geography put it, by design); 'NO' otherwise.
 */
export function verdict(client: WorldClient, answer: string, faults: Faults, margin: { percent: number; ms: number }): Verdict {
  const fastest = fastestEdge(client, faults);
  if (answer === fastest.name) return 'yes';
  const edge = EDGES.find((e) => e.name === answer);
  const got = edge && clientLatencyMs(client, edge, faults);
  if (got === undefined) return 'NO';
  const best = clientLatencyMs(client, fastest, faults) as number;
  return got - best <= Math.max((margin.percent / 100) * got, margin.ms) ? '≈' : 'NO';
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

/** For each client network: the nearest and the fastest edge by the model, each node's answer, and the verdicts. */
export function answerTable(world: World, answers: Answers, margin: { percent: number; ms: number }): string {
  const head = ['CLIENT', 'WHERE', 'NEAREST', 'FASTEST (model ms)', ...world.nodes.map((n) => n.node.id), 'NODES AGREE', 'MODEL AGREES'];
  const rows = world.clients.map((c) => {
    const fastest = fastestEdge(c, world.faults);
    const got = world.nodes.map((n) => answers.get(n.node.id)?.get(c.network) ?? '?');
    const nearest = nearestEdge(c, world.faults);
    const first = got[0];
    return [
      c.network,
      `${c.city} ${c.country} ${c.continent}`,
      `${nearest.name} ${Math.round(greatCircleKm(c, nearest))} km`,
      `${fastest.name} ${(clientLatencyMs(c, fastest, world.faults) as number).toFixed(0)}`,
      ...got.map((edge) => `${edge} ${edge === '-' || edge === '?' ? '' : (clientLatencyMs(c, EDGES.find((e) => e.name === edge) ?? fastest, world.faults) ?? NaN).toFixed(0)}`),
      got.every((g) => g === first) ? 'yes' : 'NO',
      verdict(c, first, world.faults, margin),
    ];
  });
  return pad([head, ...rows]);
}

/** The model's round trip from each node to each edge, as the edges' health endpoints serve it. */
export function delayTable(world: World): string {
  const head = ['EDGE', 'WHERE', ...NODES.map((n) => `${n.id} (${n.city})`)];
  const rows = EDGES.map((e) => [e.name, e.city, ...NODES.map((n) => {
    const ms = probeDelayMs(n, e, world.faults);
    return ms === undefined ? 'unreachable' : `${ms.toFixed(0)} ms`;
  })]);
  return pad([head, ...rows]);
}
