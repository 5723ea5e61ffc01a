// Ask a DNS server on 127.0.0.1 with BIND's dig and parse what it prints, so tests can compare two servers'
// answers as data. dig is the reference client here: its presentation of records is the same whoever answered.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tools.js';

/** One resource record as dig presents it. */
export interface RR {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface Question {
  name: string;
  class: string;
  type: string;
}

/** The OPT pseudo-RR of a reply (RFC 6891), as dig prints it. */
export interface Opt {
  version: number;
  /** EDNS flags, e.g. ["do"]. */
  flags: string[];
  udp: number;
  /** Options by dig's name ("EDE", "NSID", "COOKIE", "CLIENT-SUBNET", ...), value as printed. */
  options: Record<string, string>;
}

export interface DigResult {
  opcode: string;
  rcode: string;
  id: number;
  /** Header flags in lower case, e.g. ["qr", "aa", "tc"]. */
  flags: string[];
  /** Section counts from the header (the additional count includes the OPT pseudo-RR). */
  counts: { query: number; answer: number; authority: number; additional: number };
  question: Question[];
  answer: RR[];
  authority: RR[];
  /** Without the OPT pseudo-RR, which is in `opt`. */
  additional: RR[];
  opt?: Opt;
  ednsVersion?: number;
  ednsUdp?: number;
  /** dig's own warnings (";; WARNING: ...", ";; Warning: ..."). */
  warnings: string[];
  /** dig's full output, for failure messages. */
  raw: string;
  /** The command line, for failure messages. */
  command: string;
}

export interface DigOptions {
  /** Over TCP instead of UDP. */
  tcp?: boolean;
  /** Set RD (default false: +norec). */
  recurse?: boolean;
  /** EDNS UDP payload size to advertise (+bufsize=N). */
  bufsize?: number;
  /** false: no OPT at all (+noedns); a number: that EDNS version without negotiation (+edns=N). */
  edns?: false | number;
  /** Keep a truncated UDP reply instead of retrying over TCP (+ignore). */
  ignoreTc?: boolean;
  /** Query class (default IN). */
  qclass?: string;
  /** Set the DO bit. */
  dnssec?: boolean;
  /** Send a COOKIE option (dig's default is on; default here is off so replies are easier to compare). */
  cookie?: boolean;
  /** Request NSID. */
  nsid?: boolean;
  /** Header opcode, by number or name (+opcode=N). */
  opcode?: number | string;
  /** EDNS Client Subnet option, e.g. "192.0.2.0/24". */
  subnet?: string;
  /** Seconds per try (default 2). */
  timeoutSeconds?: number;
  /** UDP tries (default 1). */
  tries?: number;
  /** Further dig arguments, passed as they are. */
  extra?: string[];
  /** Server address (default 127.0.0.1). */
  server?: string;
}

/** dig's options for every query, whatever the question: server, port, transport, EDNS, output format. */
function globalArgs(port: number, options: DigOptions): string[] {
  const args = [
    `@${options.server ?? '127.0.0.1'}`,
    '-p',
    String(port),
    options.recurse === true ? '+rec' : '+norec',
    '+nostats',
    '+question',
    '+nomultiline',
    '+nosplit',
    '+noidnin',
    '+noidnout',
    `+time=${options.timeoutSeconds ?? 2}`,
    `+tries=${options.tries ?? 1}`,
    options.cookie === true ? '+cookie' : '+nocookie',
  ];
  if (options.tcp === true) args.push('+tcp');
  if (options.edns === false) args.push('+noedns');
  else if (options.edns !== undefined) args.push(`+edns=${options.edns}`, '+noednsnegotiation');
  if (options.bufsize !== undefined) args.push(`+bufsize=${options.bufsize}`);
  if (options.ignoreTc === true) args.push('+ignore');
  if (options.dnssec === true) args.push('+dnssec');
  if (options.nsid === true) args.push('+nsid');
  if (options.opcode !== undefined) args.push(`+opcode=${options.opcode}`);
  if (options.subnet !== undefined) args.push(`+subnet=${options.subnet}`);
  if (options.extra !== undefined) args.push(...options.extra);
  return args;
}

/** The question, as -q/-t/-c: positional "name type class" is ambiguous for ANY (a type and a class). */
function questionArgs(name: string, type: string, options: DigOptions): string[] {
  return ['-q', name, '-t', type, '-c', options.qclass ?? 'IN'];
}

/** The dig command line for a query; exported so tests can print it next to a failure. */
export function digArgs(port: number, name: string, type: string, options: DigOptions = {}): string[] {
  return [...globalArgs(port, options), '+nocmd', ...questionArgs(name, type, options)];
}

function secondsPerQuery(options: DigOptions): number {
  return (options.timeoutSeconds ?? 2) * (options.tries ?? 1) + (options.tcp === true ? 2 : 0);
}

interface RunOutput {
  stdout: string;
  stderr: string;
  /** Why dig did not exit 0, if it did not. */
  failure?: string;
}

function runDig(args: string[], killAfterMs: number): Promise<RunOutput> {
  const digPath = requireTool('dig');
  return new Promise((resolve) => {
    execFile(
      digPath,
      args,
      { timeout: killAfterMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) resolve({ stdout, stderr });
        else {
          const failure = error.killed ? `killed after ${killAfterMs} ms` : `exit code ${String(error.code)}`;
          resolve({ stdout, stderr, failure });
        }
      },
    );
  });
}

/** Query a server on 127.0.0.1 with dig; rejects with dig's output when no reply could be parsed. */
export async function dig(port: number, name: string, type = 'A', options: DigOptions = {}): Promise<DigResult> {
  const args = digArgs(port, name, type, options);
  const command = `dig ${args.join(' ')}`;
  // dig exits 9 when nothing answered; give it its own timeouts plus a margin before we kill it.
  const out = await runDig(args, secondsPerQuery(options) * 1000 + 5000);
  const raw = `${out.stdout}${out.stderr}`;
  if (out.failure !== undefined) throw new Error(`${command} failed (${out.failure}):\n${raw.trim()}`);
  return parseDig(raw, command);
}

/** The first answer record's data for a question (1 s timeout), or the rcode when the answer section is empty. */
export async function firstAnswer(port: number, name: string, type = 'A', options: DigOptions = {}): Promise<string> {
  const reply = await dig(port, name, type, { timeoutSeconds: 1, ...options });
  return reply.answer[0]?.data ?? reply.rcode;
}

export interface BatchOptions extends DigOptions {
  /** Questions per dig process (default 150). */
  chunk?: number;
  /** Give up on the remaining chunks after this many failed queries (default 10): a dead server fails fast. */
  maxFailures?: number;
}

/**
 * Ask many questions with the same options, in dig's batch mode (-f): one dig process per chunk instead of one per
 * question, which is what makes a differential run of a thousand questions take seconds. Results are in input
 * order; a question without a parsable reply gets an Error holding what dig printed.
 */
export async function digMany(
  port: number,
  questions: readonly { name: string; type: string }[],
  options: BatchOptions = {},
): Promise<(DigResult | Error)[]> {
  const chunkSize = options.chunk ?? 150;
  const maxFailures = options.maxFailures ?? 10;
  const results: (DigResult | Error)[] = [];
  let failures = 0;
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-dig-'));
  try {
    for (let start = 0; start < questions.length; start += chunkSize) {
      const chunk = questions.slice(start, start + chunkSize);
      if (failures >= maxFailures) {
        for (const q of chunk) {
          results.push(new Error(`${q.name} ${q.type}: not asked, ${failures} earlier queries failed`));
        }
        continue;
      }
      const lines = chunk.map((q) => questionArgs(q.name, q.type, options).join(' '));
      const file = join(dir, `batch-${start}`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      const args = [...globalArgs(port, options), '+cmd', '-f', file];
      const killAfterMs = Math.min(120_000, 10_000 + chunk.length * 50 + maxFailures * secondsPerQuery(options) * 1000);
      const out = await runDig(args, killAfterMs);
      const blocks = splitBatch(out.stdout);
      const parsed: (DigResult | Error)[] = [];
      chunk.forEach((q, i) => {
        const command = `dig ${globalArgs(port, options).join(' ')} ${lines[i]}`;
        const block = blocks.get(lines[i])?.shift();
        if (block === undefined) {
          failures++;
          const why = out.failure ?? 'exit 0';
          parsed.push(new Error(`${command}: no output from batch dig (${why})\n${out.stderr.trim()}`));
          return;
        }
        try {
          parsed.push(parseDig(block, command));
        } catch (err) {
          failures++;
          parsed.push(err instanceof Error ? err : new Error(String(err)));
        }
      });
      // Under load a batch dig now and then prints a block holding only its own query (AD set, no QR, no
      // records) for a question, never a reply. Such a question is asked again on its own; a server that really
      // answers without QR does so again and the single dig shows it.
      for (let i = 0; i < chunk.length; i++) {
        const result = parsed[i];
        if (result instanceof Error || result.flags.includes('qr')) continue;
        parsed[i] = await dig(port, chunk[i].name, chunk[i].type, options).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      }
      results.push(...parsed);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/**
 * Cut batch output at the "; <<>> DiG <version> <<>> <batch line>" header that +cmd prints for every question,
 * keyed by the batch line (a list, in case one is asked twice). dig prints a question's diagnostics (TC retry,
 * connection errors) just before its header, so they land in the previous block; replies never do.
 */
function splitBatch(stdout: string): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  let key: string | undefined;
  let text: string[] = [];
  const flush = (): void => {
    if (key === undefined) return;
    const list = blocks.get(key) ?? [];
    list.push(text.join('\n'));
    blocks.set(key, list);
  };
  for (const line of stdout.split('\n')) {
    const header = /^; <<>> DiG \S+ <<>> (.*)$/.exec(line);
    if (header !== null) {
      flush();
      key = header[1].trim();
      text = [];
    } else {
      text.push(line);
    }
  }
  flush();
  return blocks;
}

type Section = 'question' | 'answer' | 'authority' | 'additional' | 'opt' | undefined;

const SECTION_HEADINGS: Record<string, Section> = {
  ';; QUESTION SECTION:': 'question',
  ';; ANSWER SECTION:': 'answer',
  ';; AUTHORITY SECTION:': 'authority',
  ';; ADDITIONAL SECTION:': 'additional',
  ';; OPT PSEUDOSECTION:': 'opt',
};

/**
 * Parse dig's default (non-multiline) output. When dig printed several replies (a BADVERS or TC retry), the last
 * one is parsed, as that is the one dig kept.
 */
export function parseDig(raw: string, command = 'dig'): DigResult {
  const blocks = raw.split(/^;; Got answer:$/m);
  if (blocks.length < 2) throw new Error(`${command}: no reply in dig output:\n${raw.trim()}`);
  const text = blocks[blocks.length - 1];

  const result: DigResult = {
    opcode: '',
    rcode: '',
    id: 0,
    flags: [],
    counts: { query: 0, answer: 0, authority: 0, additional: 0 },
    question: [],
    answer: [],
    authority: [],
    additional: [],
    warnings: [],
    raw,
    command,
  };
  let section: Section;
  let sawHeader = false;

  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\s+$/, '');
    if (line === '') continue;

    const heading = SECTION_HEADINGS[line];
    if (heading !== undefined) {
      section = heading;
      continue;
    }

    const header = /^;; ->>HEADER<<- opcode: (\S+), status: (\S+), id: (\d+)$/.exec(line);
    if (header !== null) {
      result.opcode = header[1];
      result.rcode = header[2];
      result.id = Number(header[3]);
      sawHeader = true;
      continue;
    }

    const flags = /^;; flags:([^;]*); QUERY: (\d+), ANSWER: (\d+), AUTHORITY: (\d+), ADDITIONAL: (\d+)$/.exec(line);
    if (flags !== null) {
      result.flags = flags[1].trim().split(/\s+/).filter((f) => f !== '').map((f) => f.toLowerCase());
      result.counts = {
        query: Number(flags[2]),
        answer: Number(flags[3]),
        authority: Number(flags[4]),
        additional: Number(flags[5]),
      };
      continue;
    }

    if (/^;; (WARNING|Warning)/.test(line)) {
      result.warnings.push(line.slice(3));
      continue;
    }

    if (section === 'opt') {
      parseOptLine(line, result);
      continue;
    }

    if (section === 'question') {
      // ";name.  IN  A"
      const fields = line.replace(/^;/, '').trim().split(/\s+/);
      if (fields.length >= 3) result.question.push({ name: fields[0], class: fields[1], type: fields[2] });
      continue;
    }

    if (line.startsWith(';')) continue; // other dig commentary
    if (section === 'answer' || section === 'authority' || section === 'additional') {
      result[section].push(parseRRLine(line, command));
    }
  }

  if (!sawHeader) throw new Error(`${command}: no header in dig output:\n${raw.trim()}`);
  return result;
}

function parseOptLine(line: string, result: DigResult): void {
  // "; EDNS: version: 0, flags: do; udp: 1232"
  const edns = /^; EDNS: version: (\d+), flags:([^;]*); udp: (\d+)$/.exec(line);
  if (edns !== null) {
    result.opt = {
      version: Number(edns[1]),
      flags: edns[2].trim().split(/\s+/).filter((f) => f !== '').map((f) => f.toLowerCase()),
      udp: Number(edns[3]),
      options: {},
    };
    result.ednsVersion = result.opt.version;
    result.ednsUdp = result.opt.udp;
    return;
  }
  // "; EDE: 20 (Not Authoritative)", "; NSID: ...", "; COOKIE: ..."
  const option = /^; ([A-Za-z0-9-]+): ?(.*)$/.exec(line);
  if (option !== null && result.opt !== undefined) result.opt.options[option[1].toUpperCase()] = option[2];
}

/** "owner TTL CLASS TYPE rdata..." as dig prints it (tab separated, rdata may hold spaces). */
export function parseRRLine(line: string, command = 'dig'): RR {
  const match = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (match === null) throw new Error(`${command}: cannot parse record line: ${JSON.stringify(line)}`);
  return { name: match[1], ttl: Number(match[2]), class: match[3], type: match[4], data: match[5] ?? '' };
}

/**
 * A record in a form two servers' answers can be compared in: names lower-case (RFC 4343: case-insensitive),
 * rdata lower-cased and whitespace collapsed outside quoted strings (names and hex in rdata are case-insensitive;
 * text inside quotes, as in TXT and CAA values, is kept exactly).
 */
export function normalizeRR(rr: RR): RR {
  return {
    name: rr.name.toLowerCase(),
    ttl: rr.ttl,
    class: rr.class.toUpperCase(),
    type: rr.type.toUpperCase(),
    data: normalizeRdata(rr.data),
  };
}

export function normalizeRdata(data: string): string {
  let out = '';
  let quoted = false;
  let pendingSpace = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (quoted) {
      out += c;
      if (c === '\\' && i + 1 < data.length) out += data[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (/\s/.test(c)) {
      pendingSpace = out !== '';
      continue;
    }
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    if (c === '"') quoted = true;
    out += c === '\\' ? c + (data[++i] ?? '') : c.toLowerCase();
  }
  return out;
}

/** One line per record, the comparison key of a normalized record. */
export function rrKey(rr: RR): string {
  const n = normalizeRR(rr);
  return `${n.name} ${n.ttl} ${n.class} ${n.type} ${n.data}`;
}

/** The reply's sections as sorted, normalized record keys: what the differential comparison looks at. */
export function digSections(result: DigResult): { answer: string[]; authority: string[]; additional: string[] } {
  const keys = (rrs: RR[]): string[] => rrs.map(rrKey).sort();
  return { answer: keys(result.answer), authority: keys(result.authority), additional: keys(result.additional) };
}

/** A short human-readable summary of a reply, for assertion messages. */
export function describe(result: DigResult): string {
  const lines = [`${result.rcode} flags=[${result.flags.join(' ')}]`];
  if (result.opt !== undefined) lines.push(`  OPT version=${result.opt.version} udp=${result.opt.udp}`);
  for (const [label, rrs] of [
    ['AN', result.answer],
    ['NS', result.authority],
    ['AR', result.additional],
  ] as const) {
    for (const rr of rrs) lines.push(`  ${label} ${rrKey(rr)}`);
  }
  return lines.join('\n');
}
