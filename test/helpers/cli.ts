// `edgedns COMMAND ...` run in this process: the argv is parsed and handed to the command's own function, whose
// output is captured, so a test can run dozens of commands in the time one `node dist/cli/main.js` takes to start.
// What lies around those functions (src/cli/main.ts: exit codes, "edgedns: " on stderr) is proved by a few real
// spawns per command family (runCli in spawn-edgedns.ts). This file is the one place that knows how main.ts
// dispatches; when the CLI's parser changes, only this adapter follows it.

import { Writable } from 'node:stream';
import { parseCommandLine } from '../../src/cli/args.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { deployCommand } from '../../src/cli/deploy-command.js';

/** Collects what is written, as it is written; not a terminal, as a pipe or a CI log is not. */
class Capture extends Writable {
  text = '';
  readonly isTTY = false;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

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
  const [name = '', ...rest] = argv;
  const command = name === 'serve' ? undefined : COMMANDS[name];
  if (!command) throw new Error(`runCommand knows no command "${name}"; spawn the CLI for it (runCli)`);
  const saved = new Map(Object.keys(env).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(env)) {
    if (value === '') delete process.env[name];
    else process.env[name] = value;
  }
  const out = new Capture();
  const err = new Capture();
  try {
    // main.ts parses with the command's own option table, as here; deploy also takes the stream its progress goes
    // to (typed as a terminal because it asks isTTY; it is a plain pipe here).
    const args = parseCommandLine(name, rest, command.options, command.positionals);
    if (command.run === deployCommand) await deployCommand(args, out, err as unknown as NodeJS.WriteStream);
    else await command.run(args, out);
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
