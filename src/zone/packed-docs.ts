// The RRset documents a node serves, packed into one string per owner name (issue 7: as objects, 100,000 documents
// take ~50 MB of heap; packed, a fraction). Per name, so a change to one RRset repacks the few RRsets of its name,
// never the zone (issue 13). Each document is a tuple of what its id, zone and name do not already say:
// [rrtype, ttl, records, _rev or null, content hash, rest or 0, marker?], where `rest` keeps every other field (pool,
// ACME expiries, an _id that is not rrsetDocId(zone, name, rrtype)). The version marker is kept in a slot of its own
// (most documents have no other field, and a spread of `rest` per document costs a 100,000-RRset zone's unpacking
// dearly): it decides between a served document and an inline RRset of the zone document (inline-rrsets.ts).

import type { RRset } from './model.js';
import { rrsetDocId, type RRsetDoc } from './zone-docs.js';
import { MARKER_FIELD } from './zone-version.js';

type Packed = [rrtype: string, ttl: number, records: string[], rev: string | null, hash: number, rest?: Record<string, unknown> | 0, marker?: string];

/** The fields every RRset document has and the tuple holds (or the id, zone and name imply). */
const KNOWN = new Set(['_id', '_rev', 'type', 'zone', 'name', 'rrtype', 'ttl', 'records', MARKER_FIELD]);

/** A document with its content hash (zone-version.ts). */
export interface HashedDoc {
  doc: RRsetDoc;
  hash: number;
}

function pack(zone: string, { doc, hash }: HashedDoc, fields: Set<string> | undefined): Packed {
  const tuple: Packed = [doc.rrtype, doc.ttl, doc.records, doc._rev ?? null, hash];
  let rest: Record<string, unknown> | undefined;
  for (const field of Object.keys(doc)) {
    if (KNOWN.has(field)) continue;
    (rest ??= {})[field] = doc[field];
    fields?.add(field);
  }
  if (doc._id !== rrsetDocId(zone, doc.name, doc.rrtype)) (rest ??= {})._id = doc._id;
  const marker = doc[MARKER_FIELD];
  if (rest || typeof marker === 'string') tuple.push(rest ?? 0);
  if (typeof marker === 'string') tuple.push(marker);
  return tuple;
}

/** The documents of one owner name (each with doc.zone === zone and doc.name === name) as one string. */
export function packName(zone: string, docs: Iterable<HashedDoc>, fields?: Set<string>): string {
  const tuples: Packed[] = [];
  for (const doc of docs) tuples.push(pack(zone, doc, fields));
  return JSON.stringify(tuples);
}

/** The documents packName was given, as new objects in the same order. */
export function unpackName(zone: string, name: string, text: string): HashedDoc[] {
  return (JSON.parse(text) as Packed[]).map(([rrtype, ttl, records, rev, hash, rest, marker]) => {
    let doc: RRsetDoc = { _id: rrsetDocId(zone, name, rrtype), type: 'rrset', zone, name, rrtype, ttl, records };
    if (rev !== null) doc._rev = rev;
    if (marker !== undefined) doc[MARKER_FIELD] = marker;
    if (rest) doc = { ...doc, ...rest };
    return { doc, hash };
  });
}

/** Only what the index needs of a name's packed documents: its RRsets. */
export function unpackRRsets(name: string, text: string): RRset[] {
  return (JSON.parse(text) as Packed[]).map(([type, ttl, records, , , rest]) => {
    const rrset: RRset = { name, type, ttl, records };
    if (rest && typeof rest.pool === 'string') rrset.pool = rest.pool;
    return rrset;
  });
}
