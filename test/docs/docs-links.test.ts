// The README and the manual in docs/ hold together: every relative link points to a file that exists (and to a
// heading that exists, when it names one), every page of docs/ is linked from the README, and every fenced block
// names its language.

import t from 'tap';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { docFiles, fencedBlocks, headingAnchors, read, relativeLinks } from './markdown.js';

t.test('every relative link in README.md and docs/*.md points to a file and a heading that exist', async (t) => {
  let checked = 0;
  for (const file of docFiles()) {
    const text = read(file);
    for (const { target, line } of relativeLinks(text)) {
      const [rawPath, anchor] = target.split('#') as [string, string | undefined];
      const resolved = rawPath === '' ? file : path.normalize(path.join(path.dirname(file), decodeURIComponent(rawPath)));
      t.ok(existsSync(resolved), `${file}:${line}: ${target} → ${resolved} exists`);
      if (anchor !== undefined && existsSync(resolved) && statSync(resolved).isFile() && resolved.endsWith('.md')) {
        t.ok(headingAnchors(read(resolved)).has(anchor), `${file}:${line}: ${target}: ${resolved} has a heading #${anchor}`);
      }
      checked++;
    }
  }
  t.ok(checked > 50, `${checked} links checked`);
});

t.test('every page of docs/ is linked from the README', async (t) => {
  const linked = new Set(relativeLinks(read('README.md')).map((l) => path.normalize(l.target.split('#')[0] as string)));
  for (const file of docFiles().filter((f) => f !== 'README.md')) t.ok(linked.has(file), `README.md links ${file}`);
});

t.test('every fenced block names its language', async (t) => {
  for (const file of docFiles()) {
    for (const block of fencedBlocks(read(file))) t.not(block.language, '', `${file}:${block.line}: a fence names its language`);
  }
});
