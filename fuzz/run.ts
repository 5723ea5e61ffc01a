// npm run fuzz -- --seconds N [--seed S] [--target wire|zonefile|redirects|headers]
// Mutates the repository's own samples for N seconds (default 30), the targets taking turns of 100 ms, and saves
// every new kind of crash under test/fixtures/fuzz/<target>/ (the suite replays them). The same seed gives the same
// inputs (how many fit in the time depends on the machine). Exits 1 when it found a crash. An input slower than
// 2 s counts as a crash; one that never ends holds the run past its time (JavaScript cannot be interrupted).

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Dice, prng } from './mutate.js';
import { crashDir, FuzzCrash, TARGETS, type FuzzTarget } from './targets.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = Number(option('seconds') ?? 30);
const seed = Number(option('seed') ?? Date.now() % 1_000_000_000);
const only = option('target');
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 24 * 3600) throw new Error(`--seconds "${option('seconds')}" is not a number of seconds`);
const targets = TARGETS.filter((t) => only === undefined || t.name === only);
if (targets.length === 0) throw new Error(`--target "${only}" is none of ${TARGETS.map((t) => t.name).join(', ')}`);

/** Inputs slower than this count as a crash (a hang, or a pattern with catastrophic backtracking). */
const SLOW_MS = 2000;
/** Inputs accepted by a target join its corpus (bounded), so mutations build on inputs that got far. */
const CORPUS_LIMIT = 2000;
const MAX_SAVED = 50;

interface Stats {
  runs: number;
  accepted: number;
  rejected: number;
  crashes: number;
  corpus: Buffer[];
}

const dice = new Dice(prng(seed));
const stats = new Map<FuzzTarget, Stats>(targets.map((t) => [t, { runs: 0, accepted: 0, rejected: 0, crashes: 0, corpus: t.seeds() }]));
const signatures = new Set<string>();
let saved = 0;

function save(target: FuzzTarget, input: Buffer, crash: FuzzCrash): void {
  const signature = `${target.name} ${crash.message.replace(/\d+/g, 'N')} ${crash.detail.split('\n')[1] ?? ''}`;
  if (signatures.has(signature) || saved >= MAX_SAVED) return;
  signatures.add(signature);
  saved++;
  const dir = crashDir(target);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `crash-${createHash('sha256').update(input).digest('hex').slice(0, 16)}.${target.extension}`);
  writeFileSync(file, input);
  process.stdout.write(`CRASH ${target.name}: ${crash.message}\n  saved as ${path.relative(process.cwd(), file)}\n  ${crash.detail.split('\n').slice(0, 6).join('\n  ')}\n`);
}

process.stdout.write(`fuzzing ${targets.map((t) => t.name).join(', ')} for ${seconds} s, seed ${seed} (--seed ${seed} replays this run)\n`);
for (const [target, s] of stats) if (s.corpus.length === 0) throw new Error(`target ${target.name} found no samples to start from`);
const deadline = Date.now() + seconds * 1000;
for (let round = 0; Date.now() < deadline; round++) {
  const target = targets[round % targets.length];
  const s = stats.get(target)!;
  // each target gets the same time, whatever one input costs it
  const turnEnds = performance.now() + 100;
  while (performance.now() < turnEnds) {
    const input = target.mutate(dice, dice.pick(s.corpus), s.corpus);
    s.runs++;
    const started = performance.now();
    try {
      const outcome = target.run(input);
      if (outcome === 'accepted') {
        s.accepted++;
        if (s.corpus.length < CORPUS_LIMIT && dice.chance(0.05)) s.corpus.push(input);
      } else s.rejected++;
      const ms = performance.now() - started;
      if (ms > SLOW_MS) throw new FuzzCrash(`input took ${ms.toFixed(0)} ms`, 'slow');
    } catch (err) {
      const crash = err instanceof FuzzCrash ? err : new FuzzCrash(`fuzz harness: ${(err as Error).message}`, (err as Error).stack ?? '');
      s.crashes++;
      save(target, input, crash);
    }
  }
}
let crashes = 0;
for (const [target, s] of stats) {
  crashes += s.crashes;
  process.stdout.write(`${target.name.padEnd(10)} ${s.runs} inputs: ${s.accepted} accepted, ${s.rejected} rejected, ${s.crashes} crashed\n`);
}
process.stdout.write(crashes === 0 ? 'no crash\n' : `${crashes} crashing inputs; ${saved} saved under test/fixtures/fuzz/\n`);
process.exitCode = crashes === 0 ? 0 : 1;
