// Command lines, read by Node's util.parseArgs in strict mode: an option the command does not declare, a missing
// value or a value given to a switch is a UsageError (exit 2) that names the option and the command's --help.

import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import type { Flags } from '../node/config.js';

export interface ParsedArgs {
  /** The words as typed, the command first: `edgedns zone import FILE` gives ['zone', 'import', 'FILE']. */
  positionals: string[];
  flags: Flags;
}

/** `multiple`: the option may be repeated; its values reach the command joined by commas (`--dns A --dns B`). */
export type CommandOptions = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export class UsageError extends Error {}

/** How commands that talk to a node find it (api-client.ts). */
export const API_OPTIONS = {
  api: { type: 'string' },
  data: { type: 'string' },
} as const satisfies CommandOptions;

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies CommandOptions;

/** A value that is a negative number (`--lon -74.0`) can never be an option; parseArgs would call it ambiguous. */
const NEGATIVE_NUMBER = /^-(?:\d|\.\d)/;

function joinNegativeValues(argv: string[], options: CommandOptions): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return out.concat(argv.slice(i));
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && options[arg.slice(2)]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * Parses `argv` (the words after the command) for `command`, whose options are `options` plus -h/--help.
 * `command` is how the user typed it ("zone", "serve", or "" for edgedns itself), for the error message.
 */
export function parseCommandLine(command: string, argv: string[], options: CommandOptions, allowPositionals = true): ParsedArgs {
  const all: CommandOptions = { ...options, ...HELP_OPTION };
  const config: ParseArgsConfig = { args: joinNegativeValues(argv, all), options: all, strict: true, allowPositionals };
  try {
    const { values, positionals } = nodeParseArgs(config);
    const flags: Flags = {};
    for (const [name, value] of Object.entries(values)) flags[name] = Array.isArray(value) ? value.join(',') : value;
    return { positionals: command === '' ? positionals : [command, ...positionals], flags };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw err;
    const help = command === '' ? 'edgedns --help' : `edgedns ${command} --help`;
    throw new UsageError(`${whatIsWrong(config, err as Error)}; see '${help}'`);
  }
}

/** The first thing strict parsing refused, named the way the user typed it. */
function whatIsWrong(config: ParseArgsConfig, err: Error): string {
  const { tokens } = nodeParseArgs({ ...config, strict: false, allowPositionals: true, tokens: true });
  const options = config.options ?? {};
  for (const token of tokens) {
    if (token.kind === 'positional' && !config.allowPositionals) return `unexpected argument "${token.value}"`;
    if (token.kind !== 'option') continue;
    const declared = options[token.name];
    if (!declared) return `unknown option ${token.rawName}`;
    if (declared.type === 'boolean' && token.value !== undefined) return `${token.rawName} takes no value`;
    if (declared.type !== 'string' || token.inlineValue) continue;
    if (token.value === undefined || token.value.startsWith('--')) return `${token.rawName} needs a value`;
    if (token.value.length > 1 && token.value.startsWith('-')) return `${token.rawName} needs a value (to give one that starts with "-", write ${token.rawName}=${token.value})`;
  }
  return err.message.split('\n')[0];
}
