// `edgedns COMMAND ...` run in this process: the argv is parsed and handed to the command's own function, whose
// output is captured, so a test can run dozens of commands in the time one `node dist/cli/main.js` takes to start.
// What lies around those functions (src/cli/main.ts: exit codes, "edgedns: " on stderr) is proved by a few real
// spawns per command family (runCli in spawn-edgedns.ts). This file is the one place that knows how main.ts
// dispatches; when the CLI's parser changes, only this adapter follows it.

import { Writable } from 'node:stream';
import { acmeCommand } from '../../src/cli/acme-commands.js';
import { parseArgs, type ParsedArgs } from '../../src/cli/args.js';
import { clusterCommand } from '../../src/cli/cluster-commands.js';
import { deployCommand } from '../../src/cli/deploy-command.js';
import { edgeCommand, routeCommand } from '../../src/cli/edge-commands.js';
import { keyCommand } from '../../src/cli/key-commands.js';
import { poolCommand } from '../../src/cli/pool-commands.js';
import { siteCommand } from '../../src/cli/site-commands.js';
import { zoneCommand } from '../../src/cli/zone-commands.js';

/** The switches main.ts declares as taking no value. */
const BOOLEANS = new Set(['help', 'replace', 'preview']);

/** Collects what is written, as it is written; not a terminal, as a pipe or a CI log is not. */
class Capture extends Writable {
  text = '';
  readonly isTTY = false;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const COMMANDS: Record<string, (args: ParsedArgs, out: NodeJS.WritableStream, err: NodeJS.WriteStream) => Promise<void>> = {
  acme: acmeCommand,
  cluster: clusterCommand,
  deploy: deployCommand,
  edge: edgeCommand,
  key: keyCommand,
  pool: poolCommand,
  route: routeCommand,
  site: siteCommand,
  zone: zoneCommand,
};

export interface CommandResult {
  /** What the command wrote to standard output. */
  stdout: string;
  /** What it wrote to its error stream (deploy's progress on a terminal; nothing else writes there). */
  stderr: string;
  /** What it threw: main.ts prints its message and exits 2 for a UsageError, 1 otherwise. */
  error?: Error;
}

/**
 * Runs `edgedns ...argv` in-process. `env` is put into process.env for the command's duration (an empty string
 * removes the variable), as the shell would pass it, and restored afterwards; commands are awaited one at a time.
 */
export async function runCommand(argv: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  const command = COMMANDS[argv[0] ?? ''];
  if (!command) throw new Error(`runCommand knows no command "${argv[0]}"; spawn the CLI for it (runCli)`);
  const saved = new Map(Object.keys(env).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(env)) {
    if (value === '') delete process.env[name];
    else process.env[name] = value;
  }
  const out = new Capture();
  const err = new Capture();
  try {
    // Typed as a terminal stream because deploy asks it isTTY; it is a plain pipe here.
    await command(parseArgs(argv, BOOLEANS), out, err as unknown as NodeJS.WriteStream);
    return { stdout: out.text, stderr: err.text };
  } catch (error) {
    return { stdout: out.text, stderr: err.text, error: error instanceof Error ? error : new Error(String(error)) };
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
