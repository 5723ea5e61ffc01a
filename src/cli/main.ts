#!/usr/bin/env node
// The edgedns command. Output here is for people; the server itself logs JSON through pino.

import { packageVersion } from '../api/package-version.js';
import { ConfigError } from '../node/config.js';
import { ApiRequestError } from './api-client.js';
import { parseCommandLine, UsageError } from './args.js';
import { ClusterCommandError } from './cluster-commands.js';
import { COMMANDS, HELP, TOP_OPTIONS } from './commands.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command) {
    await command.run(parseCommandLine(name, rest, command.options, command.positionals), process.stdout);
    return 0;
  }
  if (name === 'version') {
    const args = parseCommandLine('version', rest, {}, false);
    process.stdout.write(args.flags.help ? 'Usage: edgedns version   prints the version of edgedns (also edgedns --version)\n' : `${packageVersion()}\n`);
    return 0;
  }
  if (name === 'help') {
    const [topic, ...extra] = parseCommandLine('help', rest, {}).positionals.slice(1);
    const help = topic === undefined ? HELP : COMMANDS[topic]?.help;
    if (help === undefined || extra.length > 0) throw new UsageError(`no help on "${[topic, ...extra].join(' ')}"; see 'edgedns --help'`);
    process.stdout.write(help);
    return 0;
  }
  if (name === undefined || name.startsWith('-')) {
    const args = parseCommandLine('', argv, TOP_OPTIONS, false);
    if (args.flags.version) process.stdout.write(`${packageVersion()}\n`);
    else process.stdout.write(HELP);
    return args.flags.version || args.flags.help ? 0 : 2;
  }
  process.stderr.write(`edgedns: unknown command "${name}"\n\n${HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const known = err instanceof UsageError || err instanceof ConfigError || err instanceof ApiRequestError || err instanceof ClusterCommandError;
    process.stderr.write(`edgedns: ${known ? (err as Error).message : (err as Error).stack ?? String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
