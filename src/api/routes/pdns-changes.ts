// A PowerDNS PATCH (or the rrsets of a zone POST): each entry checked on its own first, so a bad one fails the
// whole request naming its field, then applied in order to the zone as it is (the zone writer's plan), so the
// request is one atomic write. Semantics as PowerDNS: REPLACE sets an RRset (no records: deletes it), DELETE
// removes it; A/AAAA and LUA are different RRsets, so a DELETE of A leaves a pool alone and a pool cannot be set
// where A records are (edgedns has one RRset per name and type: delete the other first, in the same PATCH).

import { MAX_TTL, type RRset } from '../../zone/model.js';
import { normalizeRRset, type RRsetFields } from '../../zone/validate.js';
import { docToRRset, type RRsetDoc } from '../../zone/zone-docs.js';
import type { RRsetWrite } from '../../zone/zone-writer.js';
import { isInZone, lowerAscii, normalizeName } from '../../proto/names.js';
import { rrTypeCode } from '../../proto/rdata.js';
import { typeName } from '../../proto/constants.js';
import { ApiError, RRsetError } from '../../errors.js';
import { nameParam } from '../name-param.js';
import { LUA, parseLuaContent, POOL_TYPES, type PoolRecord } from './pdns-lua.js';

const MAX_CHANGES = 1000;

export interface PdnsChange {
  /** Where it was in the request: "rrsets.3". */
  field: string;
  name: string;
  /** A type mnemonic, or LUA. */
  type: string;
  changetype: 'REPLACE' | 'DELETE';
  /** A REPLACE with records. */
  rrset?: RRset;
  /** A LUA REPLACE with records: the pool of each type, and the index of the record that named it. */
  pools?: (PoolRecord & { record: number })[];
  ttl: number;
}

interface PdnsRecordInput {
  content?: unknown;
  disabled?: unknown;
}

interface PdnsRRsetInput {
  name?: unknown;
  type?: unknown;
  ttl?: unknown;
  changetype?: unknown;
  records?: unknown;
}

function invalid(message: string, field: string): ApiError {
  return new ApiError('invalid_rrset', message, field);
}

/** Every entry of a PATCH checked on its own: names, types, TTLs, records. */
export function parseChanges(input: unknown, zone: string): PdnsChange[] {
  if (!Array.isArray(input)) throw invalid('rrsets must be a list', 'rrsets');
  if (input.length > MAX_CHANGES) throw new ApiError('payload_too_large', `at most ${MAX_CHANGES} RRsets per request`, 'rrsets');
  const seen = new Set<string>();
  return input.map((raw: PdnsRRsetInput, i) => {
    const change = parseChange(raw, i, zone);
    // PowerDNS refuses a PATCH that names one RRset twice ("Duplicate RRset"): the order would be ambiguous
    const key = `${change.name}/${change.type}`;
    if (seen.has(key)) throw invalid(`${change.field}: ${change.name} ${change.type} appears twice in one request`, change.field);
    seen.add(key);
    return change;
  });
}

function parseChange(raw: PdnsRRsetInput, i: number, zone: string): PdnsChange {
  const field = `rrsets.${i}`;
  if (typeof raw !== 'object' || raw === null) throw invalid(`${field} must be an object`, field);
  if (typeof raw.name !== 'string' || !raw.name.endsWith('.')) throw invalid(`${field}.name must be an absolute name with its trailing dot`, `${field}.name`);
  if (typeof raw.type !== 'string') throw invalid(`${field}.type is required`, `${field}.type`);
  const changetype = typeof raw.changetype === 'string' ? raw.changetype.toUpperCase() : 'REPLACE';
  if (changetype !== 'REPLACE' && changetype !== 'DELETE') throw invalid(`${field}.changetype "${String(raw.changetype)}" is not REPLACE or DELETE`, `${field}.changetype`);
  // Go clients (go-powerdns) send "records": null and "ttl": 0 with a DELETE
  const records = raw.records === undefined || raw.records === null ? [] : raw.records;
  if (!Array.isArray(records)) throw invalid(`${field}.records must be a list`, `${field}.records`);
  const contents: string[] = [];
  const sent: number[] = [];
  records.forEach((r: PdnsRecordInput, j) => {
    if (typeof r !== 'object' || r === null || typeof r.content !== 'string') throw invalid(`${field}.records.${j}.content must be a string`, `${field}.records.${j}.content`);
    if (r.disabled === true) return; // disabled records are not kept (nothing here can serve them)
    contents.push(r.content);
    sent.push(j);
  });
  const ttl = raw.ttl === undefined || raw.ttl === null ? 3600 : raw.ttl;
  const upperType = raw.type.toUpperCase();
  const { name, type } = ownerAndType(raw.name, upperType, zone, field);
  if (changetype === 'DELETE' || contents.length === 0) return { field, name, type, changetype: 'DELETE', ttl: 0 };
  if (typeof ttl !== 'number') throw invalid(`${field}.ttl must be a number`, `${field}.ttl`);
  if (type === LUA) {
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw new RRsetError(`TTL ${ttl} is not an integer 0-${MAX_TTL} (RFC 2181 §8)`, `${field}.ttl`);
    const pools: (PoolRecord & { record: number })[] = [];
    contents.forEach((content, k) => {
      const recordField = `${field}.records.${sent[k]}.content`;
      const parsed = parseLuaContent(content);
      if (typeof parsed === 'string') throw new RRsetError(parsed, recordField);
      if (pools.some((p) => p.type === parsed.type)) throw new RRsetError(`${name} LUA has two ${parsed.type} records: one pool per type`, recordField);
      pools.push({ ...parsed, record: sent[k] as number });
    });
    return { field, name, type, changetype: 'REPLACE', ttl, pools };
  }
  // record k of what is kept is records[sent[k]] of what was sent (disabled records are left out)
  const fields: RRsetFields = (part, k) => (part === 'zone' ? 'zone_id' : k === undefined ? `${field}.${part}` : `${field}.records.${sent[k]}.content`);
  const rrset = normalizeRRset({ name: raw.name, type: upperType, ttl, records: contents }, zone, fields);
  return { field, name: rrset.name, type: rrset.type, changetype: 'REPLACE', ttl, rrset };
}

/** The name and type of change `field` ("rrsets.3"), checked without its records. */
function ownerAndType(rawName: string, upperType: string, zone: string, field: string): { name: string; type: string } {
  const name = nameParam(`${field}.name`, `name "${rawName}"`, () => lowerAscii(normalizeName(rawName, zone)), 'invalid_rrset');
  if (!isInZone(name, zone)) throw new RRsetError(`name ${name} is outside the zone ${zone}`, `${field}.name`);
  if (upperType === LUA) return { name, type: LUA };
  const code = rrTypeCode(upperType);
  if (code === undefined) throw new RRsetError(`unknown record type "${upperType}"`, `${field}.type`);
  return { name, type: typeName(code) };
}

function sameRRset(a: RRset, b: RRset): boolean {
  return a.ttl === b.ttl && a.pool === b.pool && a.records.length === b.records.length && a.records.every((r, i) => r === b.records[i]);
}

/**
 * The writes that turn the zone's current RRsets into what the changes ask for, applied in order. Throws (an
 * RRsetError naming the change) when a change cannot be made; nothing is then written.
 */
export function planChanges(current: ReadonlyMap<string, RRsetDoc>, changes: PdnsChange[]): RRsetWrite[] {
  const next = new Map<string, RRset | undefined>();
  const get = (key: string): RRset | undefined => {
    if (next.has(key)) return next.get(key);
    const doc = current.get(key);
    return doc ? docToRRset(doc) : undefined;
  };
  for (const change of changes) {
    const { name, field } = change;
    if (change.type === LUA) {
      for (const type of POOL_TYPES) {
        const key = `${name}/${type}`;
        const existing = get(key);
        const wanted = change.pools?.find((p) => p.type === type);
        if (wanted) {
          if (existing && existing.pool === undefined) {
            throw new RRsetError(`${name} has ${type} records; a LUA ${type} record would replace them: delete the ${type} RRset first (in this PATCH or before)`, `${field}.records.${wanted.record}.content`);
          }
          next.set(key, { name, type, ttl: change.ttl, records: [], pool: wanted.pool });
        } else if (existing?.pool !== undefined) next.set(key, undefined);
      }
      continue;
    }
    const key = `${name}/${change.type}`;
    const existing = get(key);
    if (change.rrset) {
      if (existing?.pool !== undefined) {
        throw new RRsetError(`${name} ${change.type} is answered from pool ${existing.pool} (a LUA record): delete the LUA RRset first (in this PATCH or before)`, `${field}.type`);
      }
      next.set(key, change.rrset);
    } else if (existing && existing.pool === undefined) next.set(key, undefined);
  }
  const writes: RRsetWrite[] = [];
  for (const [key, rrset] of next) {
    const doc = current.get(key);
    const [name, type] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
    if (rrset === undefined) {
      if (doc) writes.push({ name, type });
    } else if (!doc || !sameRRset(docToRRset(doc), rrset)) writes.push({ name, type, rrset });
  }
  return writes;
}
