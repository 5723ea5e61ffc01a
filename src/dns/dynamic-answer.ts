// Turns a lookup result that holds dynamic (pool) RRsets into a concrete one for this query: each pool RRset is
// replaced by the addresses selection chose; a pool RRset with no address left is dropped, and an answer left
// empty becomes NODATA with the SOA, as a name without that type would answer (RFC 2308 §2.2).

import type { EncodedSections } from './answer-encoder.js';
import type { ClientSubnet } from '../proto/query-reader.js';
import type { LookupResult, SectionEntry } from '../zone/lookup.js';
import type { IndexedRRset, ZoneIndex } from '../zone/zone-index.js';
import type { GeoAnswerer } from '../geo/pool-answerer.js';

export interface ResolvedAnswer {
  result: LookupResult;
  /** ECS scope for the reply: the widest network the choice holds for (the largest prefix any pool needed). */
  scopePrefix: number;
  /**
   * Where the caller may keep the encoded sections of `result`: present when `result` is one object shared by the
   * queries for this name answered with the same RRset, so they are encoded once.
   */
  built?: { sections?: EncodedSections };
}

/** A concrete result built for one name from one pool answer, shared through DynamicAnswer.shared. */
interface Built {
  result: LookupResult;
  sections?: EncodedSections;
}

/** Names (lookup results) remembered per shared answer: a zone rebuild makes new ones, so old ones must go. */
const MAX_BUILT = 16;

function withPoolAnswer(zone: ZoneIndex, result: LookupResult, rrset: IndexedRRset | undefined): LookupResult {
  if (rrset) return { ...result, answer: [{ ...result.answer[0], rrset }], dynamic: false };
  return { ...result, kind: 'nodata', answer: [], authority: [...result.authority, { owner: zone.apex.key, ownerNode: zone.apex, rrset: zone.negativeSoa }], dynamic: false };
}

export function resolveDynamic(zone: ZoneIndex, result: LookupResult, geo: GeoAnswerer | undefined, ecs: ClientSubnet | undefined, remote: string | undefined): ResolvedAnswer {
  // The common case, one pool RRset in the answer and nothing else dynamic: built once per name and answer.
  const only = result.answer.length === 1 && result.additional.length === 0 ? result.answer[0].rrset : undefined;
  if (geo && only?.pool !== undefined) {
    const answer = geo.answer(only.pool, only.type, only.ttl, ecs, remote);
    const rrset = answer.rrset && answer.rrset.records.length > 0 ? answer.rrset : undefined;
    const shared = answer.shared;
    let built = shared?.get(result) as Built | undefined;
    if (!built) {
      built = { result: withPoolAnswer(zone, result, rrset) };
      if (shared) {
        if (shared.size >= MAX_BUILT) shared.clear();
        shared.set(result, built);
      }
    }
    return { result: built.result, scopePrefix: answer.scopePrefix, built };
  }
  let scopePrefix = 0;
  const resolve = (entries: SectionEntry[]): SectionEntry[] => {
    const out: SectionEntry[] = [];
    for (const entry of entries) {
      const pool = entry.rrset.pool;
      if (pool === undefined) {
        out.push(entry);
        continue;
      }
      if (!geo) continue; // geo routing not running: no address rather than a wrong one
      const answer = geo.answer(pool, entry.rrset.type, entry.rrset.ttl, ecs, remote);
      scopePrefix = Math.max(scopePrefix, answer.scopePrefix);
      if (answer.rrset && answer.rrset.records.length > 0) out.push({ ...entry, rrset: answer.rrset });
    }
    return out;
  };
  const answer = resolve(result.answer);
  const additional = resolve(result.additional);
  let authority = result.authority;
  let kind = result.kind;
  if (answer.length < result.answer.length) {
    // a pool with no address for this query: NODATA at the name (after any CNAME that led there), with the SOA
    if (answer.length === 0) kind = 'nodata';
    authority = [...authority, { owner: zone.apex.key, ownerNode: zone.apex, rrset: zone.negativeSoa }];
  }
  return { result: { ...result, kind, answer, authority, additional, dynamic: false }, scopePrefix };
}
