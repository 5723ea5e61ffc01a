// Whole-zone and single-RRset rules, checked before data is stored or served.
//
// Data at or below a delegation that a resolver could never be given is rejected, not just warned about: a TXT
// at "sub" beside "sub NS" is occluded (RFC 1034 §4.2.1, the cut makes it non-authoritative) and would silently
// never be served. Allowed at a cut: NS, DS, RRSIG, NSEC, and A/AAAA (glue when a server is named after the child
// apex); below a cut only A/AAAA glue. knot 3.2 loads such zones without a word; we prefer to say so.

import { typeName } from '../proto/constants.js';
import { MAX_TTL, POOL_NAME, type RRset, type Zone } from './model.js';
import { isInZone, lowerAscii, NameError, nameKey, normalizeName, parentKey } from '../proto/names.js';
import { parseRdataText, RdataError, rdataKey, rrTypeCode, type ParsedRdata } from '../proto/rdata.js';
import { RRsetError, ZoneValidationError, type ZoneProblem } from '../errors.js';
import { rrsetSizeProblem } from './rrset-size.js';
import { runAtOnce, STEP_ITEMS, type Steps } from './slices.js';

export { RRsetError, ZoneValidationError, type ZoneProblem };

/** The parts of an RRset a client sends. */
export type RRsetPart = 'zone' | 'name' | 'type' | 'ttl' | 'pool' | 'records';

/** Where each part sits in the request, so an RRsetError names the field the client sent; `record` is 0-based. */
export type RRsetFields = (part: RRsetPart, record?: number) => string;

/** An RRset that is the request body: "ttl", "records", "records.2". */
export const RRSET_FIELDS: RRsetFields = (part, record) => (record === undefined ? part : `${part}.${record}`);

/** Which input a zone came from: the request field a ZoneValidationError names, and the file its message starts with. */
export interface ZoneSource {
  field?: string;
  file?: string;
}

/** Types that may share a name with a CNAME (RFC 1034 §3.6.2, RFC 4035 §2.5). */
const BESIDE_CNAME = new Set(['CNAME', 'RRSIG', 'NSEC']);
const AT_CUT = new Set(['NS', 'DS', 'RRSIG', 'NSEC', 'A', 'AAAA']);
const GLUE = new Set(['A', 'AAAA']);

function problem(problems: ZoneProblem[], name: string, type: string, message: string): void {
  problems.push({ name, type, message });
}

/** Checks of one RRset on its own: name, type, TTL, records; the records it parsed go to `parsed` when all did. */
function checkRRset(rrset: RRset, apex: string, problems: ZoneProblem[], parsed?: Map<RRset, ParsedRdata[]>): void {
  const { name, type } = rrset;
  const add = (message: string): void => problem(problems, name, type, message);
  try {
    if (nameKey(name) !== name) add(`owner name is not in canonical lower-case form (${nameKey(name)})`);
  } catch (err) {
    if (!(err instanceof NameError)) throw err;
    add(err.message);
    return;
  }
  if (!isInZone(name, apex)) add(`owner is outside the zone ${apex}`);
  const code = rrTypeCode(type);
  if (code === undefined) {
    add(`unknown type ${type}`);
    return;
  }
  // RRsets stored before edgedns knew a type's mnemonic kept its RFC 3597 spelling and generic rdata: still valid.
  const legacy = type === `TYPE${code}` && rrset.records.every((record) => record.startsWith('\\# '));
  if (typeName(code) !== type && !legacy) add(`type should be written ${typeName(code)}`);
  if (!Number.isInteger(rrset.ttl) || rrset.ttl < 0 || rrset.ttl > MAX_TTL) {
    add(`TTL ${rrset.ttl} is not an integer 0-${MAX_TTL} (RFC 2181 §8)`);
  }
  if (rrset.pool !== undefined) {
    if (type !== 'A' && type !== 'AAAA') add(`only A and AAAA RRsets can name a pool, not ${type}`);
    if (typeof rrset.pool !== 'string' || !POOL_NAME.test(rrset.pool)) add(`pool name "${String(rrset.pool)}" must be 1-63 of a-z, 0-9, "-", "_"`);
    if (rrset.records.length > 0) add('a dynamic RRset names a pool instead of records; it cannot have both');
    return;
  }
  if (rrset.records.length === 0) add('RRset has no records');
  const seen = new Set<string>();
  const all: ParsedRdata[] = [];
  for (const record of rrset.records) {
    try {
      const one = parseRdataText(type, record, '.');
      if (one.text !== record && !legacy) add(`record ${record} is not in canonical form; expected ${one.text}`);
      const key = rdataKey(one);
      if (seen.has(key)) add(`record "${record}" appears twice (RFC 2181 §5)`);
      seen.add(key);
      all.push(one);
    } catch (err) {
      if (!(err instanceof RdataError)) throw err;
      add(`record "${record}": ${err.message}`);
    }
  }
  if (parsed && all.length === rrset.records.length) parsed.set(rrset, all);
  if ((type === 'CNAME' || type === 'SOA') && rrset.records.length > 1) {
    add(`a ${type} RRset holds exactly one record, not ${rrset.records.length} (RFC 2181 §10.1, RFC 1035 §5.2)`);
  }
}

/** The nearest delegation at or above `name` (below the apex), if any. */
function cutAbove(name: string, apex: string, cuts: Set<string>): string | undefined {
  let found: string | undefined;
  for (let n: string | undefined = name; n !== undefined && n !== apex; n = parentKey(n)) {
    if (cuts.has(n)) found = n; // keep climbing: the highest cut is the one that takes the data out of the zone
    if (n === '.') break;
  }
  return found;
}

/**
 * Every problem of the zone. `parsed`, when given, receives each RRset's parsed records, so that building the index
 * right after (buildZoneIndex) need not parse them again.
 */
export function validateZone(zone: Zone, parsed?: Map<RRset, ParsedRdata[]>): ZoneProblem[] {
  return runAtOnce(validateZoneSteps(zone, parsed));
}

/** validateZone in steps (slices.ts), so a big zone can be checked without holding up the event loop. */
export function* validateZoneSteps(zone: Zone, parsed?: Map<RRset, ParsedRdata[]>): Steps<ZoneProblem[]> {
  const problems: ZoneProblem[] = [];
  const apex = zone.name;
  try {
    if (nameKey(apex) !== apex) problem(problems, apex, '', `zone name is not in canonical lower-case form (${nameKey(apex)})`);
  } catch (err) {
    if (!(err instanceof NameError)) throw err;
    problem(problems, apex, '', `zone name: ${err.message}`);
    return problems;
  }

  const byName = new Map<string, Set<string>>();
  let step = 0;
  for (const rrset of zone.rrsets) {
    checkRRset(rrset, apex, problems, parsed);
    const code = rrTypeCode(rrset.type);
    const type = code === undefined ? rrset.type : typeName(code);
    const types = byName.get(rrset.name) ?? new Set<string>();
    if (types.has(type)) {
      const legacy = zone.rrsets.find((r) => r.name === rrset.name && r.type !== type && r.type === `TYPE${code}`);
      const hint = legacy ? `; it is also stored as ${legacy.type} from before edgedns knew ${type}: export the zone and import it again with --replace` : '; merge its records';
      problem(problems, rrset.name, type, `RRset appears twice${hint}`);
    }
    types.add(type);
    byName.set(rrset.name, types);
    if (++step % STEP_ITEMS === 0) yield;
  }

  const soas = zone.rrsets.filter((r) => r.type === 'SOA');
  if (!soas.some((r) => r.name === apex)) problem(problems, apex, 'SOA', 'the zone has no SOA at its apex (RFC 1035 §5.2)');
  for (const soa of soas) if (soa.name !== apex) problem(problems, soa.name, 'SOA', `SOA is only allowed at the apex ${apex}`);
  if (!byName.get(apex)?.has('NS')) problem(problems, apex, 'NS', 'the zone has no NS records at its apex (RFC 1034 §4.2.1)');

  const cuts = new Set<string>();
  for (const [name, types] of byName) if (name !== apex && types.has('NS')) cuts.add(name);

  for (const [name, types] of byName) {
    if (++step % STEP_ITEMS === 0) yield;
    if (types.has('CNAME')) {
      const others = [...types].filter((t) => !BESIDE_CNAME.has(t));
      if (name === apex) problem(problems, name, 'CNAME', 'CNAME is not allowed at the zone apex, which has SOA and NS');
      else if (others.length > 0) {
        problem(problems, name, 'CNAME', `CNAME must be alone at its name, but ${others.join(', ')} is there too (RFC 1034 §3.6.2)`);
      }
    }
    if (types.has('DS') && !cuts.has(name)) problem(problems, name, 'DS', 'DS belongs only at a delegation (NS below the apex) (RFC 4035 §2.4)');
    if (cuts.size === 0) continue;
    const cut = cutAbove(name, apex, cuts);
    if (cut === undefined) continue;
    for (const type of types) {
      if (cut === name && !AT_CUT.has(type)) {
        problem(problems, name, type, `${type} beside the delegation NS is not authoritative and would never be served (RFC 1034 §4.2.1)`);
      } else if (cut !== name && !GLUE.has(type)) {
        problem(problems, name, type, `${type} below the delegation at ${cut} is occluded: only A/AAAA glue may be there`);
      }
    }
  }
  return problems;
}

export function assertValidZone(zone: Zone, parsed?: Map<RRset, ParsedRdata[]>, source: ZoneSource = {}): void {
  const problems = validateZone(zone, parsed);
  if (problems.length > 0) throw new ZoneValidationError(zone.name, problems, source.field, source.file);
}

export interface RRsetInput {
  name: string;
  type: string;
  ttl: number;
  records: string[];
  /** A dynamic A/AAAA RRset: answered from this pool's edges; `records` must then be empty. */
  pool?: string;
}

/**
 * One RRset as a client sent it, checked and made canonical for zone `zone`: relative names (owner and rdata) are
 * completed with the zone name, records parsed and deduplicated. Zone-wide rules (CNAME alone, delegations) are for
 * validateZone once the RRset is placed in its zone. `fields` says where the client put each part.
 */
export function normalizeRRset(input: RRsetInput, zone: string, fields: RRsetFields = RRSET_FIELDS): RRset {
  let apex: string;
  let name: string;
  try {
    apex = nameKey(zone, '.');
  } catch (err) {
    if (err instanceof NameError) throw new RRsetError(`zone "${zone}": ${err.message}`, fields('zone'));
    throw err;
  }
  try {
    name = lowerAscii(normalizeName(input.name, apex));
  } catch (err) {
    if (err instanceof NameError) throw new RRsetError(`name "${input.name}": ${err.message}`, fields('name'));
    throw err;
  }
  if (!isInZone(name, apex)) throw new RRsetError(`name ${name} is outside the zone ${apex}`, fields('name'));
  const code = rrTypeCode(input.type);
  if (code === undefined) throw new RRsetError(`unknown record type "${input.type}"; write unlisted types as TYPEnnn`, fields('type'));
  const type = typeName(code);
  if (!Number.isInteger(input.ttl) || input.ttl < 0 || input.ttl > MAX_TTL) {
    throw new RRsetError(`TTL ${input.ttl} is not an integer 0-${MAX_TTL} (RFC 2181 §8)`, fields('ttl'));
  }
  if (input.pool !== undefined) {
    if (type !== 'A' && type !== 'AAAA') throw new RRsetError(`only A and AAAA RRsets can name a pool, not ${type}`, fields('pool'));
    if (typeof input.pool !== 'string' || !POOL_NAME.test(input.pool)) throw new RRsetError(`pool name "${String(input.pool)}" must be 1-63 of a-z, 0-9, "-", "_"`, fields('pool'));
    if (input.records.length > 0) throw new RRsetError(`${name} ${type} names pool ${input.pool}; it cannot also have records`, fields('records'));
    return { name, type, ttl: input.ttl, records: [], pool: input.pool };
  }
  if (input.records.length === 0) throw new RRsetError(`${name} ${type} has no records`, fields('records'));
  const records: string[] = [];
  const kept: ParsedRdata[] = [];
  const seen = new Set<string>();
  input.records.forEach((text, i) => {
    try {
      const parsed = parseRdataText(input.type, text, apex);
      const key = rdataKey(parsed);
      if (seen.has(key)) return;
      seen.add(key);
      records.push(parsed.text);
      kept.push(parsed);
    } catch (err) {
      if (err instanceof RdataError) throw new RRsetError(`record ${i + 1} "${text}" of ${name} ${type}: ${err.message}`, fields('records', i));
      throw err;
    }
  });
  if ((type === 'CNAME' || type === 'SOA') && records.length > 1) {
    throw new RRsetError(`${name} ${type} must have exactly one record, not ${records.length} (RFC 2181 §10.1)`, fields('records'));
  }
  const rrset = { name, type, ttl: input.ttl, records };
  const tooLarge = rrsetSizeProblem(rrset, kept);
  if (tooLarge) throw new RRsetError(`${name} ${type}: ${tooLarge}`, fields('records'));
  return rrset;
}
