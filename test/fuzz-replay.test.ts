// Every input the fuzzer (npm run fuzz) ever saved under test/fixtures/fuzz/<target>/ is run again through its
// target: each once crashed edgedns, so each must now be answered or refused cleanly. Also a short seeded fuzz run
// of every target, so the harness itself is exercised by the suite.

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Dice, prng } from '../fuzz/mutate.js';
import { crashDir, FuzzCrash, TARGETS } from '../fuzz/targets.js';

for (const target of TARGETS) {
  let files: string[] = [];
  try {
    files = readdirSync(crashDir(target)).filter((f) => !f.startsWith('.')).sort();
  } catch {
    // no crash ever saved for this target
  }
  t.test(`${target.name}: ${files.length} saved crashing inputs no longer crash`, async (t) => {
    for (const file of files) {
      const input = readFileSync(path.join(crashDir(target), file));
      let crash: string | undefined;
      try {
        target.run(input);
      } catch (err) {
        crash = err instanceof FuzzCrash ? `${err.message}\n${err.detail}` : String(err);
      }
      t.equal(crash, undefined, file);
    }
  });

  t.test(`${target.name}: 150 seeded mutations of the samples, none crashes`, async (t) => {
    const seeds = target.seeds();
    t.ok(seeds.length > 0, `${seeds.length} samples to start from`);
    const dice = new Dice(prng(20261130));
    const outcomes = { accepted: 0, rejected: 0 };
    const crashes: string[] = [];
    for (let i = 0; i < 150; i++) {
      const input = target.mutate(dice, dice.pick(seeds), seeds);
      try {
        outcomes[target.run(input)]++;
      } catch (err) {
        crashes.push(err instanceof FuzzCrash ? err.message : String(err));
      }
    }
    t.same(crashes, [], 'no crash');
    t.ok(outcomes.accepted > 0 && outcomes.rejected > 0, `mutations reach both outcomes (${outcomes.accepted} accepted, ${outcomes.rejected} rejected)`);
  });
}

t.test('refusals are not crashes: a dropped message, a typed parse error', async (t) => {
  const wire = TARGETS.find((x) => x.name === 'wire')!;
  // a message with QR set is a response, not a query: dropped, which is the right thing to do
  const response = Buffer.from(wire.seeds()[0]);
  response[2] |= 0x80;
  t.equal(wire.run(response), 'rejected');
  const zonefile = TARGETS.find((x) => x.name === 'zonefile')!;
  t.equal(zonefile.run(Buffer.from('$INCLUDE /etc/passwd\n')), 'rejected', 'a typed parse error is a refusal');
});
