// What people read about `edgedns serve` options, generated from their declarations (src/node/serve-options.ts):
// the --help text, the options parseArgs accepts, and the markdown table of docs/configuration.md.

import { SERVE_OPTIONS, type ServeOption } from '../node/serve-options.js';
import type { CommandOptions } from './args.js';

const WIDTH = 118;
const OPTIONS: ServeOption[] = Object.values(SERVE_OPTIONS);

export const TABLE_START = '<!-- options:start -->';
export const TABLE_END = '<!-- options:end -->';

/** The flags `edgedns serve` accepts: every declared option that has one. */
export function serveCommandOptions(options: ServeOption[] = OPTIONS): CommandOptions {
  const out: CommandOptions = {};
  for (const o of options) if (o.flag !== undefined) out[o.flag] = { type: o.type ?? 'string', ...(o.repeatable ? { multiple: true } : {}) };
  return out;
}

function usage(o: ServeOption): string {
  if (o.flag === undefined) return o.env;
  return o.type === 'boolean' ? `--${o.flag}` : `--${o.flag} ${o.value}`;
}

function plain(markdown: string): string {
  return markdown.replace(/`([^`]*)`/g, '$1');
}

function defaultFor(o: ServeOption, markdown: boolean): string {
  if (o.defaultText !== undefined) return markdown ? o.defaultText : plain(o.defaultText);
  if (typeof o.default === 'string') return markdown ? `\`${o.default}\`` : o.default;
  return 'none';
}

function wrap(words: string, indent: number, first: number): string[] {
  const lines: string[] = [];
  let line = '';
  let room = WIDTH - first;
  for (const word of words.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = WIDTH - indent;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

export function serveHelp(options: ServeOption[] = OPTIONS): string {
  const column = Math.max(...options.map((o) => usage(o).length)) + 4;
  const rows = options.map((o) => {
    const where = o.flag === undefined ? '' : `${o.env}, `;
    const [first, ...rest] = wrap(`${plain(o.help)} [${where}default ${defaultFor(o, false)}]`, column, column);
    return [`  ${usage(o).padEnd(column - 2)}${first}`, ...rest.map((l) => ' '.repeat(column) + l)].join('\n');
  });
  return `Usage: edgedns serve [options]

Runs one edgedns node: authoritative DNS on UDP and TCP, the HTTP API and the asset server, until SIGINT or SIGTERM
(which drain: in-flight answers finish, then exit 0). SIGHUP reloads the log level, GeoIP files and TLS material.
Each option can also be set by the environment variable named after it; a flag wins over its variable.

Options:
${rows.join('\n')}
  -h, --help${' '.repeat(column - 12)}this text

More: docs/configuration.md
`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The options table of docs/configuration.md, without its markers. */
export function optionsMarkdown(options: ServeOption[] = OPTIONS): string {
  const rows = options.map((o) => `| ${o.flag === undefined ? '—' : `\`${usage(o)}\``} | \`${o.env}\` | ${cell(defaultFor(o, true))} | ${cell(o.help)} |`);
  return ['| flag | variable | default | what |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}

/** `document` with the text between the table markers replaced by the generated table. */
export function withOptionsTable(document: string, options: ServeOption[] = OPTIONS): string {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the document has no ${TABLE_START} ... ${TABLE_END} block`);
  return `${document.slice(0, start + TABLE_START.length)}\n${optionsMarkdown(options)}${document.slice(end)}`;
}
