// Every `--flag` the README and docs/*.md show is one the command takes: after `edgedns COMMAND` (in a code block or
// in inline code) it must appear in `edgedns COMMAND --help`; a flag written alone in inline code (`--workers N`)
// must be one of some edgedns command, or one of another program's that the page discusses (listed below).
//
// Needs `npm run build` first (it runs dist/cli/main.js).

import t from 'tap';
import { docFiles, fencedBlocks, inlineCode, read } from './markdown.js';
import { runCli } from '../helpers/spawn-edgedns.js';

/** Flags of other programs that the docs name on their own, with the program they belong to. */
const OTHER_PROGRAMS: Record<string, string> = {
  '--dns.disable-cp': 'lego',
  '--dns.resolvers': 'lego',
  '--yes': 'npx',
  '--seed': 'npm run fuzz',
  '--target': 'npm run fuzz',
  '--seconds': 'npm run fuzz',
};

const FLAG = /(?:^|[\s[])(--[a-z][a-z0-9.-]*)/g;

async function helpFlags(): Promise<Map<string, Set<string>>> {
  const main = await runCli(['--help']);
  const commands = [...new Set([...main.stdout.matchAll(/^\s+edgedns ([a-z]+)\b/gm)].map((m) => m[1] as string))].filter((c) => c !== 'help');
  // two at a time: the machine's two cores are shared
  const helps: { code: number | null; stdout: string; stderr: string }[] = [];
  for (let i = 0; i < commands.length; i += 2) helps.push(...(await Promise.all(commands.slice(i, i + 2).map((c) => runCli([c, '--help'], {}, 60_000)))));
  const flags = new Map<string, Set<string>>();
  commands.forEach((command, i) => {
    const help = helps[i] as { code: number | null; stdout: string; stderr: string };
    if (help.code !== 0) throw new Error(`edgedns ${command} --help exited ${help.code}: ${help.stderr}`);
    flags.set(command, new Set(['--help', ...[...help.stdout.matchAll(FLAG)].map((m) => m[1] as string)]));
  });
  return flags;
}

/** `edgedns COMMAND …` up to where the shell command ends (a quote, pipe, `;`, `&`, `)`, a comment or the line). */
function edgednsSegments(text: string): { command: string; rest: string }[] {
  const joined = text.replace(/\\\n/g, ' ');
  return [...joined.matchAll(/\bedgedns ([a-z]+)([^'"`|;&)#\n]*)/g)].map((m) => ({ command: m[1] as string, rest: m[2] as string }));
}

t.test('every --flag in the README and docs/*.md is a flag of its edgedns command', async (t) => {
  const flags = await helpFlags();
  t.ok(flags.size >= 10, `${flags.size} commands read from edgedns --help`);
  const anyCommand = new Set([...flags.values()].flatMap((s) => [...s]));
  let checked = 0;
  for (const file of docFiles()) {
    const text = read(file);
    const code = [...fencedBlocks(text).map((b) => b.text), ...inlineCode(text)];
    for (const snippet of code) {
      for (const { command, rest } of edgednsSegments(snippet)) {
        const known = flags.get(command);
        if (!known) continue; // prose such as "every edgedns database"
        for (const m of rest.matchAll(FLAG)) {
          t.ok(known.has(m[1] as string), `${file}: edgedns ${command} takes ${m[1]}`);
          checked++;
        }
      }
    }
    for (const span of inlineCode(text)) {
      const alone = /^(--[a-z][a-z0-9.-]*)/.exec(span)?.[1];
      if (alone === undefined) continue;
      const owner = OTHER_PROGRAMS[alone];
      t.ok(anyCommand.has(alone) || owner !== undefined, `${file}: ${alone} is a flag of ${owner ?? 'an edgedns command'}`);
      checked++;
    }
  }
  t.ok(checked > 50, `${checked} flag mentions checked`);
});
