// Master files (RFC 1035 §5) to a Zone. All or nothing: the first error throws with its file and line.
//
// Where the RFCs leave room we do what knot 3.2 does, since it is the reference server for edgedns:
// - A record without a TTL takes the last $TTL; before any $TTL, `defaultTtl` (knot's `default-ttl`, 3600). knot
//   does not fall back to the previous record's TTL (BIND's habit) nor to the SOA minimum.
// - TTLs that differ inside one RRset (RFC 2181 §5.2 forbids it) are not an error: the RRset takes the TTL of its
//   last record in the file, as knot does ("TTL mismatch ... TTL set to").
// - Identical records are kept once (RFC 2181 §5); names in rdata compare case-insensitively (RFC 4034 §6.2).
// - $ORIGIN must be absolute (knot: "invalid FQDN zone origin"); $INCLUDE and $GENERATE are refused.
// Unlike knot, a record outside the zone is an error rather than silently ignored.

import { Class, typeName } from '../proto/constants.js';
import { MAX_TTL, POOL_NAME, type RRset, type Zone } from './model.js';
import { isInZone, labelsToText, lowerAscii, NameError, normalizeName, parseName } from '../proto/names.js';
import { parseRdata, parseTtl, RdataError, rdataKey, rrTypeCode, type ParsedRdata } from '../proto/rdata.js';
import { sortRRsets } from './zonefile-order.js';
import { TokenizeError, tokenizeEntriesSteps, type Entry, type Token } from '../proto/zonefile-tokenizer.js';
import { runAtOnce, STEP_ITEMS, type Steps } from './slices.js';
import { ZoneFileError } from '../errors.js';

export interface ParseZoneOptions {
  /** The zone's apex; without it the first SOA owner, else the first $ORIGIN, names the zone. */
  origin?: string;
  /** File name shown in error messages. */
  file?: string;
  /** The request field the text came from (the API's `body`), named by a ZoneFileError. */
  field?: string;
  /** TTL for records with none before any $TTL (default 3600, knot's default-ttl). */
  defaultTtl?: number;
}

export { ZoneFileError };

/** True when presentation text ends in an unescaped ".", i.e. names an absolute domain. */
function isAbsolute(text: string): boolean {
  if (!text.endsWith('.')) return false;
  let backslashes = 0;
  for (let i = text.length - 2; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}

const DEFAULT_TTL = 3600;
const CLASS_WORD = /^(IN|CH|CS|HS|NONE|ANY|CLASS\d+)$/i;

interface ParsedRecord {
  owner: string;
  code: number;
  ttl: number;
  rdata: ParsedRdata;
  line: number;
}

/** `www 30 IN POOL default [A|AAAA]`: edgedns's dialect for dynamic RRsets (both A and AAAA unless one is named). */
interface PoolRecord {
  owner: string;
  ttl: number;
  pool: string;
  types: string[];
  line: number;
}

/** Thrown inside the parser and turned into a ZoneFileError with the file name at the top. */
class LineError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

function ttlValue(token: Token, what: string): number {
  const value = token.quoted ? undefined : parseTtl(token.text);
  if (value === undefined) throw new LineError(token.line, `${what} "${token.text}" is not a number of seconds or a time like 1h, 2d, 1w2d`);
  if (value > MAX_TTL) throw new LineError(token.line, `${what} ${value} is over ${MAX_TTL} (RFC 2181 §8)`);
  return value;
}

function absoluteName(token: Token, origin: string | undefined, what: string): string[] {
  if (token.quoted) throw new LineError(token.line, `${what} must not be quoted ("${token.text}")`);
  try {
    return parseName(token.text, origin);
  } catch (err) {
    if (err instanceof NameError) throw new LineError(token.line, `${what} "${token.text}": ${err.message}`);
    throw err;
  }
}

class Parser {
  origin: string | undefined;
  firstOrigin: string | undefined;
  ttl: number | undefined;
  lastOwner: string | undefined;
  readonly records: ParsedRecord[] = [];
  readonly pools: PoolRecord[] = [];

  constructor(
    origin: string | undefined,
    readonly defaultTtl: number,
  ) {
    this.origin = origin;
  }

  entry(entry: Entry): void {
    const first = entry.tokens[0];
    if (!entry.blankOwner && !first.quoted && first.text.startsWith('$')) this.directive(entry.tokens);
    else this.record(entry);
  }

  directive(tokens: Token[]): void {
    const [head, ...args] = tokens;
    const word = head.text.toUpperCase();
    const one = (): Token => {
      if (args.length !== 1) throw new LineError(head.line, `${word} takes exactly one argument`);
      return args[0];
    };
    switch (word) {
      case '$ORIGIN': {
        const arg = one();
        if (!isAbsolute(arg.text)) {
          throw new LineError(arg.line, `$ORIGIN "${arg.text}" must be an absolute name ending in "."`);
        }
        this.origin = labelsToText(absoluteName(arg, undefined, '$ORIGIN'));
        this.firstOrigin ??= lowerAscii(this.origin);
        return;
      }
      case '$TTL':
        this.ttl = ttlValue(one(), '$TTL');
        return;
      case '$INCLUDE':
        throw new LineError(head.line, '$INCLUDE is not supported: a zone is loaded from one self-contained file');
      case '$GENERATE':
        throw new LineError(head.line, '$GENERATE is not supported (a BIND extension): list the records explicitly');
      default:
        throw new LineError(head.line, `unknown directive ${head.text}`);
    }
  }

  record(entry: Entry): void {
    const tokens = entry.tokens;
    let i = 0;
    let owner: string;
    if (entry.blankOwner) {
      if (this.lastOwner === undefined) {
        throw new LineError(entry.line, 'the first record has no owner name (the line starts with a blank)');
      }
      owner = this.lastOwner;
    } else {
      owner = lowerAscii(labelsToText(absoluteName(tokens[i++], this.origin, 'owner name')));
    }
    this.lastOwner = owner;

    // RFC 1035 §5.1: [<TTL>] [<class>] or [<class>] [<TTL>] before the type.
    let ttl: number | undefined;
    let hasClass = false;
    for (;;) {
      const token = tokens[i];
      if (token === undefined || token.quoted) break;
      if (/^\d/.test(token.text)) {
        if (ttl !== undefined) throw new LineError(token.line, `second TTL "${token.text}" in one record`);
        ttl = ttlValue(token, 'TTL');
      } else if (CLASS_WORD.test(token.text)) {
        if (hasClass) throw new LineError(token.line, `second class "${token.text}" in one record`);
        const upper = token.text.toUpperCase();
        if (upper !== 'IN' && upper !== `CLASS${Class.IN}`) {
          throw new LineError(token.line, `class ${token.text} is not supported; edgedns serves class IN only`);
        }
        hasClass = true;
      } else break;
      i++;
    }

    const typeToken = tokens[i++];
    if (typeToken === undefined) throw new LineError(entry.line, `record for ${owner} has no type`);
    if (!typeToken.quoted && typeToken.text.toUpperCase() === 'POOL') {
      this.pools.push(poolRecord(owner, ttl ?? this.ttl ?? this.defaultTtl, tokens.slice(i), typeToken.line));
      return;
    }
    const code = typeToken.quoted ? undefined : rrTypeCode(typeToken.text);
    if (code === undefined) throw new LineError(typeToken.line, `unknown record type "${typeToken.text}"`);
    let rdata: ParsedRdata;
    try {
      rdata = parseRdata(typeToken.text, tokens.slice(i), this.origin);
    } catch (err) {
      if (err instanceof RdataError) throw new LineError(typeToken.line, err.message);
      throw err;
    }
    this.records.push({ owner, code, ttl: ttl ?? this.ttl ?? this.defaultTtl, rdata, line: entry.line });
  }
}

function poolRecord(owner: string, ttl: number, args: Token[], line: number): PoolRecord {
  const [name, ...rest] = args;
  if (name === undefined) throw new LineError(line, 'POOL needs a pool name (www 30 IN POOL default)');
  if (name.quoted || !POOL_NAME.test(name.text)) throw new LineError(line, `pool name "${name.text}" must be 1-63 of a-z, 0-9, "-", "_"`);
  const types = rest.map((t) => t.text.toUpperCase());
  if (types.some((t) => t !== 'A' && t !== 'AAAA') || new Set(types).size !== types.length) {
    throw new LineError(line, `POOL ${name.text} takes at most the types A and AAAA after the pool name, not "${rest.map((t) => t.text).join(' ')}"`);
  }
  return { owner, ttl, pool: name.text, types: types.length > 0 ? types : ['A', 'AAAA'], line };
}

/** The dynamic RRsets of POOL lines; a name cannot have both records and a pool for one type. */
function poolRRsets(pools: PoolRecord[], records: ParsedRecord[]): RRset[] {
  const out = new Map<string, RRset>();
  const staticSets = new Set(records.map((r) => `${r.owner} ${typeName(r.code)}`));
  for (const p of pools) {
    for (const type of p.types) {
      const id = `${p.owner} ${type}`;
      if (staticSets.has(id)) throw new LineError(p.line, `${p.owner} has ${type} records and POOL ${p.pool}: use one or the other`);
      const seen = out.get(id);
      if (seen && seen.pool !== p.pool) throw new LineError(p.line, `${p.owner} ${type} names two pools (${seen.pool}, ${p.pool})`);
      out.set(id, { name: p.owner, type, ttl: p.ttl, records: [], pool: p.pool });
    }
  }
  return [...out.values()];
}

function apexOf(parser: Parser, given: string | undefined): string {
  if (given !== undefined) return given;
  const soa = parser.records.find((r) => r.code === 6);
  const apex = soa?.owner ?? parser.firstOrigin;
  if (apex === undefined) throw new LineError(1, 'cannot tell the zone name: no origin given, no $ORIGIN and no SOA');
  return apex;
}

function group(records: ParsedRecord[]): RRset[] {
  const sets = new Map<string, { rrset: RRset; keys: Set<string> }>();
  for (const record of records) {
    const id = `${record.owner} ${record.code}`;
    let set = sets.get(id);
    if (set === undefined) {
      set = { rrset: { name: record.owner, type: typeName(record.code), ttl: record.ttl, records: [] }, keys: new Set() };
      sets.set(id, set);
    }
    set.rrset.ttl = record.ttl;
    const key = rdataKey(record.rdata);
    if (set.keys.has(key)) continue;
    set.keys.add(key);
    set.rrset.records.push(record.rdata.text);
  }
  return sortRRsets([...sets.values()].map((s) => s.rrset));
}

export function parseZoneFile(text: string, options: ParseZoneOptions = {}): Zone {
  return runAtOnce(parseZoneFileSteps(text, options));
}

/** parseZoneFile in steps (slices.ts): a 100,000-record file is parsed without holding up the answers. */
export function* parseZoneFileSteps(text: string, options: ParseZoneOptions = {}): Steps<Zone> {
  const { file, field } = options;
  try {
    let given: string | undefined;
    if (options.origin !== undefined) {
      try {
        given = lowerAscii(normalizeName(options.origin, '.'));
      } catch (err) {
        if (err instanceof NameError) throw new ZoneFileError(file, undefined, `origin "${options.origin}": ${err.message}`, field);
        throw err;
      }
    }
    const parser = new Parser(given, options.defaultTtl ?? DEFAULT_TTL);
    // A UTF-8 byte order mark from some editors is not part of the first owner name.
    const entries = yield* tokenizeEntriesSteps(text.replace(/^\uFEFF/, ''));
    for (let i = 0; i < entries.length; i++) {
      parser.entry(entries[i]);
      if ((i + 1) % STEP_ITEMS === 0) yield;
    }
    const apex = apexOf(parser, given);
    for (const record of [...parser.records, ...parser.pools]) {
      if (!isInZone(record.owner, apex)) throw new LineError(record.line, `${record.owner} is outside the zone ${apex}`);
    }
    const dynamic = poolRRsets(parser.pools, parser.records);
    yield;
    return { name: apex, rrsets: dynamic.length > 0 ? sortRRsets([...group(parser.records), ...dynamic]) : group(parser.records) };
  } catch (err) {
    if (err instanceof LineError || err instanceof TokenizeError) throw new ZoneFileError(file, err.line, err.message, field);
    if (err instanceof NameError) throw new ZoneFileError(file, undefined, err.message, field);
    throw err;
  }
}
