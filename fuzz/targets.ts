// What the fuzzer feeds and what counts as a crash. Each target reads its seeds from the repository's own samples,
// mutates them, and runs one input through the code under test:
//   wire       the query reader and handler, over UDP and TCP size rules, against the sample and fixture zones:
//              a crash is an exception out of the handler, an internal error it caught (SERVFAIL and a log line),
//              or a reply that is not a well-formed response to the query;
//   zonefile   the zone-file parser, index build and writer: a crash is any exception but ZoneFileError and
//              ZoneIndexError, or a zone we accepted whose written form we cannot read back;
//   redirects, headers   the _redirects/_headers parsers and matchers: any exception but RulesError.
// `run` returns "accepted" or "rejected" (a typed error: the input was refused as it should be), or throws
// FuzzCrash. The suite replays every saved crash through the same `run` (test/fuzz-replay.test.ts).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createHandler, type DnsHandler } from '../src/dns/handler.js';
import { DnsMetrics } from '../src/dns/metrics.js';
import { Class, Type, typeCode } from '../src/proto/constants.js';
import { textToWire } from '../src/proto/names.js';
import { compileHeaderRules, compileRedirects, findRedirect, headersFor, parseHeaders, parseRedirects, RulesError } from '../src/pages/rules.js';
import { Catalog } from '../src/zone/catalog.js';
import { buildZoneIndex, ZoneIndexError } from '../src/zone/zone-index.js';
import { parseZoneFile, ZoneFileError } from '../src/zone/zonefile-parse.js';
import { writeZoneFile } from '../src/zone/zonefile-write.js';
import { validateZone } from '../src/zone/validate.js';
import { decodeMessage } from '../test/helpers/decode.js';
import { Dice, mutateOctets, mutateText } from './mutate.js';

export class FuzzCrash extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

export type Outcome = 'accepted' | 'rejected';

export interface FuzzTarget {
  name: string;
  /** File extension of saved inputs. */
  extension: 'bin' | 'txt';
  seeds(): Buffer[];
  mutate(dice: Dice, input: Buffer, seeds: readonly Buffer[]): Buffer;
  run(input: Buffer): Outcome;
}

const ROOT = process.cwd();

/** Files under `dir` (recursively) whose name passes `wanted`. */
function filesUnder(dir: string, wanted: (name: string) => boolean): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full, wanted));
    else if (wanted(entry)) out.push(full);
  }
  return out;
}

function zoneFiles(): string[] {
  return [...filesUnder(path.join(ROOT, 'zones'), (n) => n.endsWith('.zone')), ...filesUnder(path.join(ROOT, 'test', 'fixtures'), (n) => n.endsWith('.zone') && !n.startsWith('crash-'))];
}

function describe(err: unknown): FuzzCrash {
  const e = err instanceof Error ? err : new Error(String(err));
  return new FuzzCrash(`${e.name}: ${e.message.split('\n')[0]}`, e.stack ?? e.message);
}

// ---- wire ---------------------------------------------------------------------------------------------------

interface WireRig {
  handle: DnsHandler;
  internalErrors: string[];
  queries: Buffer[];
}

let wireRig: WireRig | undefined;

function query(name: string, qtype: number, options: { id?: number; flags?: number; qclass?: number; edns?: Buffer } = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x2b2b, 0);
  header.writeUInt16BE(options.flags ?? 0x0100, 2);
  header.writeUInt16BE(1, 4);
  const question = Buffer.alloc(4);
  question.writeUInt16BE(qtype, 0);
  question.writeUInt16BE(options.qclass ?? Class.IN, 2);
  if (!options.edns) return Buffer.concat([header, textToWire(name), question]);
  header.writeUInt16BE(1, 10);
  return Buffer.concat([header, textToWire(name), question, options.edns]);
}

function opt(udpSize: number, dnssecOk: boolean, options: Buffer): Buffer {
  const head = Buffer.alloc(11);
  head.writeUInt16BE(Type.OPT, 1);
  head.writeUInt16BE(udpSize, 3);
  head.writeUInt16BE(dnssecOk ? 0x8000 : 0, 7);
  head.writeUInt16BE(options.length, 9);
  return Buffer.concat([head, options]);
}

function rig(): WireRig {
  if (wireRig) return wireRig;
  const catalog = new Catalog();
  const queries: Buffer[] = [];
  const ecs = Buffer.from([0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100]);
  const cookie = Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
  for (const file of zoneFiles()) {
    let zone;
    try {
      zone = parseZoneFile(readFileSync(file, 'utf8'), { file });
      catalog.set(zone.name, buildZoneIndex(zone));
    } catch {
      continue; // a fixture meant to fail to load
    }
    // every owner name of the fixture zones, asked for its own types and a few others, with and without EDNS
    for (const rrset of zone.rrsets) {
      const types = [typeCode(rrset.type) ?? Type.A, Type.A, Type.ANY, Type.DS];
      for (const qtype of types) queries.push(query(rrset.name, qtype));
      queries.push(query(rrset.name, Type.AAAA, { edns: opt(1232, true, ecs) }));
      queries.push(query(`nx.${rrset.name}`, Type.TXT, { edns: opt(512, false, cookie) }));
    }
  }
  queries.push(query('id.server.', Type.TXT, { qclass: Class.CH }), query('example.com.', Type.AXFR), query('example.com.', Type.SOA, { flags: 4 << 11 }));
  const internalErrors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as { msg?: string; err?: { stack?: string; message?: string } };
        internalErrors.push(`${entry.msg ?? ''}: ${entry.err?.stack ?? entry.err?.message ?? ''}`);
      }
      done();
    },
  });
  const handle = createHandler({ catalog, chaos: { nodeId: 'fuzz', version: 'fuzz' }, metrics: new DnsMetrics(new Registry()), logger: pino({ level: 'error' }, sink) });
  wireRig = { handle, internalErrors, queries };
  return wireRig;
}

function checkReply(input: Buffer, reply: Buffer, transport: 'udp' | 'tcp'): void {
  if (reply.length < 12) throw new FuzzCrash(`${transport} reply shorter than a header`, reply.toString('hex'));
  if ((reply[2] & 0x80) === 0) throw new FuzzCrash(`${transport} reply without QR`, reply.toString('hex'));
  if (reply.readUInt16BE(0) !== input.readUInt16BE(0)) throw new FuzzCrash(`${transport} reply with another ID`, reply.toString('hex'));
  if (((reply[2] >> 3) & 0xf) !== ((input[2] >> 3) & 0xf)) throw new FuzzCrash(`${transport} reply with another opcode`, reply.toString('hex'));
  if (transport === 'udp' && reply.length > 1232) throw new FuzzCrash(`UDP reply of ${reply.length} octets`, reply.toString('hex'));
  try {
    decodeMessage(reply);
  } catch (err) {
    throw new FuzzCrash(`${transport} reply is not a well-formed message: ${(err as Error).message}`, reply.toString('hex'));
  }
}

const wire: FuzzTarget = {
  name: 'wire',
  extension: 'bin',
  seeds: () => rig().queries,
  mutate: (dice, input, seeds) => mutateOctets(dice, input, seeds),
  run(input) {
    const { handle, internalErrors } = rig();
    let answered = false;
    for (const transport of ['udp', 'tcp'] as const) {
      internalErrors.length = 0;
      let reply: Buffer | undefined;
      try {
        reply = handle(input, transport, '192.0.2.1');
      } catch (err) {
        throw describe(err);
      }
      if (internalErrors.length > 0) throw new FuzzCrash(`internal error over ${transport}`, internalErrors.join('\n'));
      if (reply) {
        checkReply(input, reply, transport);
        answered = true;
      }
    }
    return answered ? 'accepted' : 'rejected';
  },
};

// ---- zone files ---------------------------------------------------------------------------------------------

const ZONE_WORDS = [
  '$ORIGIN ', '$TTL ', '$INCLUDE x', '$GENERATE 1-2 a A 1.2.3.4', '@', '*', '*.', '(', ')', ';', '"', '\\', '\\.', '\\065', '\\999', '.', '..',
  ' IN ', ' CH ', ' CLASS1 ', ' TYPE65534 ', ' \\# 0', ' \\# 2 abcd', ' SOA ', ' NS ', ' A ', ' AAAA ', ' MX ', ' TXT ', ' SRV ', ' CAA ', ' CNAME ',
  ' DNAME ', ' PTR ', ' TLSA ', ' SSHFP ', ' DS ', ' HTTPS ', ' SVCB ', ' POOL ', '1.2.3.4', '::1', '::ffff:1.2.3.4', '1w2d3h', '\t', '\n', ' ', '\r\n',
  'xn--', '-', '_', '0 issue "x"', '10 mail', 'alpn=h2', 'mandatory=alpn', 'key65535=x',
];

const zonefile: FuzzTarget = {
  name: 'zonefile',
  extension: 'txt',
  seeds: () => zoneFiles().map((f) => readFileSync(f)),
  mutate: (dice, input, seeds) => Buffer.from(mutateText(dice, input.toString('utf8'), seeds.map((s) => s.toString('utf8')), ZONE_WORDS), 'utf8'),
  run(input) {
    const text = input.toString('utf8');
    let zone;
    try {
      zone = parseZoneFile(text, { file: 'fuzz.zone', origin: text.length % 2 === 0 ? 'example.com.' : undefined });
    } catch (err) {
      if (err instanceof ZoneFileError) return 'rejected';
      throw describe(err);
    }
    try {
      if (validateZone(zone).length > 0) return 'rejected';
      buildZoneIndex(zone);
    } catch (err) {
      if (err instanceof ZoneIndexError) return 'rejected';
      throw describe(err);
    }
    let written: string;
    try {
      written = writeZoneFile(zone);
    } catch (err) {
      throw describe(err);
    }
    try {
      parseZoneFile(written, { file: 'written.zone' });
    } catch (err) {
      throw new FuzzCrash(`an accepted zone written out does not read back: ${(err as Error).message}`, written);
    }
    return 'accepted';
  },
};

// ---- _redirects and _headers -----------------------------------------------------------------------------------

const RULE_WORDS = ['/*', '/:splat', ':splat', ':name', ':a:b', '*', '**', '!', ' 200', ' 301', ' 404', ' 999', 'https://', 'http://x/', '://', ':', '/', '\t', '  ', '\n', '#', 'https://:sub.example.test/*', '?', '?a=:a', '%', '%zz', '..', '\\', '(', '[', '$', '^', '+', '{2}', 'X-A: 1', '  ! X-A', 'Link: </a>'];

/** Rule files: the example site's, and the ones test/pages/rules.test.ts parses. */
function ruleSamples(kind: 'Redirects' | 'Headers'): Buffer[] {
  const samples: string[] = [];
  try {
    samples.push(readFileSync(path.join(ROOT, 'examples', 'pages-site', kind === 'Redirects' ? '_redirects' : '_headers'), 'utf8'));
  } catch {
    // the example site is optional for the fuzzer
  }
  for (const file of filesUnder(path.join(ROOT, 'test', 'pages'), (n) => n.endsWith('.ts'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(new RegExp(`parse${kind}\\(\`([^\`]*)\``, 'g'))) samples.push(m[1]);
  }
  return samples.map((s) => Buffer.from(s, 'utf8'));
}

function probePaths(patterns: string[]): string[] {
  const paths = ['/', '/a', '/a/b/c', '/%', '/..', '//x', '/static/x.js'];
  for (const p of patterns) {
    paths.push(p.replace(/\*/g, 'x/y').replace(/:[A-Za-z_]\w*/g, 'v'));
    // long values and a mismatch at the end: what makes a backtracking pattern slow
    paths.push(p.replace(/\*/g, 'x/y').replace(/:[A-Za-z_]\w*/g, 'vvv') + '/%');
  }
  return paths;
}

function rulesTarget(kind: 'Redirects' | 'Headers'): FuzzTarget {
  return {
    name: kind.toLowerCase(),
    extension: 'txt',
    seeds: () => ruleSamples(kind),
    mutate: (dice, input, seeds) => Buffer.from(mutateText(dice, input.toString('utf8'), seeds.map((s) => s.toString('utf8')), RULE_WORDS), 'utf8'),
    run(input) {
      const text = input.toString('utf8');
      try {
        if (kind === 'Redirects') {
          const rules = compileRedirects(parseRedirects(text));
          for (const p of probePaths(rules.map((r) => r.from))) findRedirect(rules, p);
        } else {
          const rules = compileHeaderRules(parseHeaders(text));
          for (const p of probePaths(rules.map((r) => r.path))) headersFor(rules, 'www.example.test', p);
        }
        return 'accepted';
      } catch (err) {
        if (err instanceof RulesError) return 'rejected';
        throw describe(err);
      }
    },
  };
}

export const TARGETS: FuzzTarget[] = [wire, zonefile, rulesTarget('Redirects'), rulesTarget('Headers')];

/** Where saved crashes of `target` live (and where the suite replays them from). */
export function crashDir(target: FuzzTarget): string {
  return path.join(ROOT, 'test', 'fixtures', 'fuzz', target.name);
}
