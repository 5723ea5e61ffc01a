// Turns a lookup result that holds dynamic (pool) RRsets into a concrete one for this query: each pool RRset is
// replaced by the addresses selection chose; a pool RRset with no address left is dropped, and an answer left
// empty becomes NODATA with the SOA, as a name without that type would answer (RFC 2308 §2.2).

import type { ClientSubnet } from '../dns/query-reader.js';
import type { LookupResult, SectionEntry } from '../zone/lookup.js';
import type { ZoneIndex } from '../zone/zone-index.js';
import type { GeoAnswerer } from './router.js';

export interface ResolvedAnswer {
  result: LookupResult;
  /** ECS scope for the reply: the widest network the choice holds for (the largest prefix any pool needed). */
  scopePrefix: number;
}

export function resolveDynamic(zone: ZoneIndex, result: LookupResult, geo: GeoAnswerer | undefined, ecs: ClientSubnet | undefined, remote: string | undefined): ResolvedAnswer {
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
