// Every shell command in README.md, run as written in one bash session (as a reader types them into one terminal, in
// order), against a node this test starts as `npm start` would: the shipped zones/, a fresh data directory reached as
// ./data, `edgedns` on PATH. Only the README's default ports 5300/8053/8080 are rewritten to the test's free ports (and
// EDGEDNS_API names the test's API, standing in for the CLI's default 127.0.0.1:8053). Each command must exit 0, and
// print what its comment says: text in "double quotes" must appear in its output, and a dig command's comment claims
// its rcode, aa/tc flags, addresses, ECS scope, record count and SOA in authority. A block that cannot run here says
// why in a marker right above it (markdown.ts, NOT_RUN_MARKER); the test lists those blocks.
//
// Needs `npm run build` first (it runs dist/cli/main.js), dig and curl.

import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, symlink, writeFile, chmod, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLI, spawnEdgedns } from '../helpers/spawn-edgedns.js';
import { requireTool } from '../helpers/tools.js';
import { fencedBlocks, read, SHELL_LANGUAGES, shellCommands, type ShellCommand } from './markdown.js';

const README = 'README.md';
const RUN_TIMEOUT_MS = 60_000;
const MARK = '@@readme-command';

interface Claim {
  what: string;
  holds(output: string): boolean;
}

const RCODES = ['NOERROR', 'NXDOMAIN', 'REFUSED', 'SERVFAIL', 'FORMERR', 'NOTIMP', 'NOTAUTH'];

function digFlags(output: string): string[] {
  return /;; flags: ([^;]*);/.exec(output)?.[1]?.trim().split(/\s+/) ?? [];
}

/** What a command's comment says it prints, in the forms this test can check. */
function claimsOf(command: ShellCommand): Claim[] {
  const claims: Claim[] = [];
  const { comment } = command;
  for (const m of comment.matchAll(/"([^"]+)"(:[^\s,;)]+)?/g)) {
    const text = m[2] ? `"${m[1]}"${m[2]}` : (m[1] as string);
    claims.push({ what: `prints "${text}"`, holds: (out) => out.includes(text) });
  }
  if (!/^dig\s/.test(command.text)) return claims;
  const prose = comment.replace(/"[^"]*"/g, '');
  for (const rcode of RCODES) {
    if (new RegExp(`\\b${rcode}\\b`).test(prose)) claims.push({ what: `status ${rcode}`, holds: (out) => out.includes(`status: ${rcode},`) });
  }
  for (const flag of ['aa', 'tc']) {
    if (new RegExp(`\\b${flag}\\b`).test(prose)) claims.push({ what: `flag ${flag}`, holds: (out) => digFlags(out).includes(flag) });
  }
  for (const m of prose.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g)) {
    const address = m[0];
    claims.push({ what: `answers ${address}`, holds: (out) => new RegExp(`(^|\\s)${address.replace(/\./g, '\\.')}(\\s|$)`, 'm').test(out) });
  }
  const scope = /scope \/(\d+)/.exec(prose);
  if (scope) claims.push({ what: `ECS scope /${scope[1]}`, holds: (out) => new RegExp(`CLIENT-SUBNET: \\S+/\\d+/${scope[1]}\\b`).test(out) });
  if (/SOA in (the )?authority/.test(prose)) claims.push({ what: 'the SOA in authority', holds: (out) => /;; AUTHORITY SECTION:\n\S+\s+\d+\s+IN\s+SOA\s/.test(out) });
  const count = /\b(\d+) records\b/.exec(prose);
  if (count) claims.push({ what: `${count[1]} records`, holds: (out) => out.includes(`ANSWER: ${count[1]},`) });
  return claims;
}

function rewritePorts(text: string, ports: { dns: number; api: number; http: number }): string {
  const by: Record<string, number> = { '5300': ports.dns, '8053': ports.api, '8080': ports.http };
  return text.replace(/\b(5300|8053|8080)\b/g, (port) => String(by[port]));
}

/** One bash script: each command between markers on stdout and stderr, its exit status after it. */
function script(commands: ShellCommand[]): string {
  const lines = ['set -o pipefail'];
  commands.forEach((command, i) => {
    lines.push(`printf '\\n${MARK} ${i} start\\n'; printf '\\n${MARK} ${i} start\\n' >&2`);
    lines.push(command.text);
    lines.push(`__rc=$?; printf '\\n${MARK} ${i} exit %d\\n' "$__rc"; printf '\\n${MARK} ${i} exit %d\\n' "$__rc" >&2`);
  });
  return lines.join('\n') + '\n';
}

function outputs(text: string, count: number): { output: string; exit?: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const m = new RegExp(`\\n${MARK} ${i} start\\n([\\s\\S]*?)\\n${MARK} ${i} exit (\\d+)\\n`).exec(text);
    return m ? { output: m[1] as string, exit: Number(m[2]) } : { output: '' };
  });
}

function runBash(file: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [file], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

t.test('every shell command in README.md runs as written and prints what its comment says', async (t) => {
  requireTool('dig');
  requireTool('curl');
  const blocks = fencedBlocks(read(README));
  for (const block of blocks) t.not(block.language, '', `README.md:${block.line}: a fence names its language, so no command hides in an unlabelled block`);
  const shell = blocks.filter((b) => SHELL_LANGUAGES.has(b.language));
  const toRun = shell.filter((b) => b.notRun === undefined);
  const notRun = shell.filter((b) => b.notRun !== undefined);

  const node = await spawnEdgedns({ zonesDir: path.resolve('zones'), nodeId: os.hostname() });
  const work = await mkdtemp(path.join(os.tmpdir(), 'edgedns-readme-'));
  t.teardown(async () => {
    await node.stop();
    await rm(work, { recursive: true, force: true });
  });
  // The clone as the reader sees it, with the node's data directory as ./data.
  const clone = path.join(work, 'clone');
  await mkdir(clone);
  for (const entry of await readdir('.')) if (entry !== 'data') await symlink(path.resolve(entry), path.join(clone, entry));
  await symlink(node.dataDir, path.join(clone, 'data'));
  const bin = path.join(work, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'edgedns'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  await chmod(path.join(bin, 'edgedns'), 0o755);

  const ports = { dns: node.dnsPort, api: node.apiPort, http: node.httpPort };
  const commands = toRun.flatMap((b) => shellCommands(rewritePorts(b.text, ports)));
  const scriptFile = path.join(work, 'readme.sh');
  await writeFile(scriptFile, script(commands));
  const env: NodeJS.ProcessEnv = { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, HOME: work, LANG: 'C.UTF-8', EDGEDNS_API: `127.0.0.1:${ports.api}` };
  const run = await runBash(scriptFile, clone, env);
  const out = outputs(run.stdout, commands.length);
  const err = outputs(run.stderr, commands.length);

  commands.forEach((command, i) => {
    const output = `${out[i]?.output ?? ''}\n${err[i]?.output ?? ''}`;
    const exit = out[i]?.exit;
    const shown = command.text.replace(/\s+/g, ' ');
    t.equal(exit, 0, `exits 0: ${shown}`, { output });
    const claims = claimsOf(command);
    if (/^dig\s/.test(command.text)) t.ok(claims.length > 0, `its comment says what it prints: ${shown}`);
    for (const claim of claims) t.ok(claim.holds(output), `${claim.what}: ${shown}`, { output });
  });

  for (const block of notRun) t.ok(block.notRun, `README.md:${block.line} not run, because: ${block.notRun}`);
  t.ok(commands.length > 0, 'the README has commands to run');
  t.comment(`ran ${commands.length} commands from ${toRun.length} blocks; ${notRun.length} blocks not run (listed above)`);
  t.ok(run.code !== null, `bash finished within ${RUN_TIMEOUT_MS / 1000} s`, { stderr: run.stderr.slice(-2000) });
});
