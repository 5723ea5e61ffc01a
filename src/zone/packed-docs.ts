// A zone's RRset documents packed into one string while the sync only holds them (issue 7: as objects, 100,000
// documents take ~50 MB of heap; packed, ~7 MB). Each document is a tuple of what its id, zone and type do not
// already say: [name, rrtype, ttl, records, _rev or null, rest?], where `rest` keeps every other field (pool, ACME
// expiries, an _id that is not rrsetDocId(zone, name, rrtype)), so unpacking gives back the document as stored.

import { rrsetDocId, type RRsetDoc } from './zone-docs.js';

type Packed = [name: string, rrtype: string, ttl: number, records: string[], rev: string | null, rest?: Record<string, unknown>];

/** The fields every RRset document has, and the tuple holds (or the id and the zone imply). */
const KNOWN = new Set(['_id', '_rev', 'type', 'zone', 'name', 'rrtype', 'ttl', 'records']);

function pack(zone: string, doc: RRsetDoc): Packed {
  const tuple: Packed = [doc.name, doc.rrtype, doc.ttl, doc.records, doc._rev ?? null];
  let rest: Record<string, unknown> | undefined;
  for (const field of Object.keys(doc)) {
    if (KNOWN.has(field)) continue;
    (rest ??= {})[field] = doc[field];
  }
  if (doc._id !== rrsetDocId(zone, doc.name, doc.rrtype)) (rest ??= {})._id = doc._id;
  if (rest) tuple.push(rest);
  return tuple;
}

export interface PackedDocs {
  text: string;
  count: number;
  /** Fields beyond the usual ones that some document has (ACME expiries, pool): finds them without unpacking. */
  fields?: ReadonlySet<string>;
}

/** Documents of `zone` (each with doc.zone === zone) as one string. */
export function packDocs(zone: string, docs: Iterable<RRsetDoc>): PackedDocs {
  const tuples: Packed[] = [];
  let fields: Set<string> | undefined;
  for (const doc of docs) {
    const tuple = pack(zone, doc);
    if (tuple[5]) for (const field of Object.keys(tuple[5])) (fields ??= new Set()).add(field);
    tuples.push(tuple);
  }
  const text = JSON.stringify(tuples);
  return fields ? { text, count: tuples.length, fields } : { text, count: tuples.length };
}

/** The documents packDocs was given, as new objects in the same order. */
export function unpackDocs(zone: string, { text }: PackedDocs): RRsetDoc[] {
  return (JSON.parse(text) as Packed[]).map(([name, rrtype, ttl, records, rev, rest]) => {
    const doc: RRsetDoc = { _id: rrsetDocId(zone, name, rrtype), type: 'rrset', zone, name, rrtype, ttl, records };
    if (rev !== null) doc._rev = rev;
    return rest ? { ...doc, ...rest } : doc;
  });
}
