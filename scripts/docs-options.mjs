// Rewrites the options table of docs/configuration.md (between <!-- options:start --> and <!-- options:end -->)
// from the declarations in src/node/serve-options.ts. Run through `npm run docs:options`, which builds dist/ first.
// With --check: changes nothing, exits 1 when the table is out of date.

import { readFileSync, writeFileSync } from 'node:fs';
import { withOptionsTable } from '../dist/cli/serve-help.js';

const file = new URL('../docs/configuration.md', import.meta.url);
const before = readFileSync(file, 'utf8');
const after = withOptionsTable(before);
if (process.argv.includes('--check')) {
  if (after !== before) {
    process.stderr.write('docs/configuration.md: the options table is out of date; run npm run docs:options\n');
    process.exitCode = 1;
  }
} else if (after !== before) {
  writeFileSync(file, after);
  process.stdout.write('docs/configuration.md: options table rewritten\n');
} else process.stdout.write('docs/configuration.md: options table already up to date\n');
