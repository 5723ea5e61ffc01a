#!/usr/bin/env node
// The edgedns command. Output here is for people; the server itself logs JSON through pino.

import { ConfigError } from '../config.js';
import { ApiRequestError } from './api-client.js';
import { parseArgs, UsageError } from './args.js';
import { serveCommand, SERVE_HELP } from './serve-command.js';
import { zoneCommand, ZONE_HELP } from './zone-commands.js';

const HELP = `edgedns: authoritative GeoDNS and edge platform node

Usage:
  edgedns serve [options]        run a node (DNS + API); see edgedns serve --help
  edgedns zone import FILE       import a BIND zone file (--replace to overwrite)
  edgedns zone export NAME       print a zone as a BIND zone file
  edgedns zone list              list zones
  edgedns COMMAND --help         help for one command
`;

const BOOLEANS = new Set(['help', 'replace']);

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, BOOLEANS);
  const command = args.positionals[0];
  switch (command) {
    case 'serve':
      await serveCommand(args, process.stdout);
      return 0;
    case 'zone':
      await zoneCommand(args, process.stdout);
      return 0;
    case undefined:
    case 'help':
      process.stdout.write(HELP);
      return args.flags.help || command === 'help' ? 0 : 2;
    default:
      process.stderr.write(`edgedns: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const known = err instanceof UsageError || err instanceof ConfigError || err instanceof ApiRequestError;
    process.stderr.write(`edgedns: ${known ? (err as Error).message : (err as Error).stack ?? String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);

export { SERVE_HELP, ZONE_HELP };
