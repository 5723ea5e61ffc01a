// How zones live in the store: one document per zone and one per RRset (the CouchDB model the design asks for:
// an edit touches one small document, so concurrent edits of different RRsets never conflict).

import type { StoredDoc } from '../store/store.js';
import type { RRset, Zone } from './model.js';
import { MARKER_FIELD, type ZoneVersion } from './zone-version.js';
import type { InlineRRset } from './inline-rrsets.js';

export interface ZoneDoc extends StoredDoc {
  type: 'zone';
  name: string;
  createdAt: string;
  updatedAt: string;
  /** The version of the zone's content this document names (zone-version.ts); absent on zones written before. */
  version?: ZoneVersion;
  /** RRsets written since the last fold, by "name/TYPE" (inline-rrsets.ts): over the RRset documents. */
  inline?: Record<string, InlineRRset>;
  /** Markers of the versions this document has been through, newest last (inline-rrsets.ts). */
  history?: string[];
  /**
   * Inline RRsets that lost when versions written apart were merged (both sides changed the RRset): listed as
   * conflicts until one is kept (zone-reconcile.ts).
   */
  contested?: Record<string, InlineRRset[]>;
}

export interface RRsetDoc extends StoredDoc {
  type: 'rrset';
  zone: string;
  name: string;
  rrtype: string;
  ttl: number;
  records: string[];
  /** Set for a dynamic A/AAAA RRset (records empty): the pool whose edges answer. */
  pool?: string;
}

export const ZONE_PREFIX = 'zone/';
export const RRSET_PREFIX = 'rrset/';

export function zoneDocId(zone: string): string {
  return ZONE_PREFIX + zone;
}

export function rrsetDocPrefix(zone: string): string {
  return `${RRSET_PREFIX}${zone}/`;
}

export function rrsetDocId(zone: string, name: string, type: string): string {
  return `${rrsetDocPrefix(zone)}${name}/${type}`;
}

/** The key of an RRset within its zone, "name/TYPE" (how writers, merges and the inline part name it). */
export function rrsetKey(name: string, type: string): string {
  return `${name}/${type}`;
}

/** The owner name and type of an rrsetKey (a name may hold "/": the type is what follows the last one). */
export function splitRRsetKey(key: string): [name: string, type: string] {
  const slash = key.lastIndexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** The document id of the RRset `key` of `zone`. */
export function rrsetDocIdOfKey(zone: string, key: string): string {
  const [name, type] = splitRRsetKey(key);
  return rrsetDocId(zone, name, type);
}

export function isZoneDoc(doc: StoredDoc): doc is ZoneDoc {
  return doc.type === 'zone' && typeof doc.name === 'string';
}

/**
 * An RRset deleted by a versioned write: a live document saying "gone", not a CouchDB deletion, because a deletion
 * replicates without its body and a node must hold it back with the rest of its version like any other change.
 */
export interface GoneRRsetDoc extends StoredDoc {
  type: 'rrset';
  zone: string;
  name: string;
  rrtype: string;
  gone: true;
}

export function isGoneRRsetDoc(doc: StoredDoc): doc is GoneRRsetDoc {
  return doc.type === 'rrset' && doc.gone === true && typeof doc.zone === 'string' && typeof doc.name === 'string' && typeof doc.rrtype === 'string';
}

export function goneDoc(zone: string, name: string, type: string, marker: string, rev?: string): GoneRRsetDoc {
  const doc: GoneRRsetDoc = { _id: rrsetDocId(zone, name, type), type: 'rrset', zone, name, rrtype: type, gone: true, [MARKER_FIELD]: marker };
  if (rev !== undefined) doc._rev = rev;
  return doc;
}

export function isRRsetDoc(doc: StoredDoc): doc is RRsetDoc {
  return (
    doc.type === 'rrset' &&
    doc.gone !== true &&
    typeof doc.zone === 'string' &&
    typeof doc.name === 'string' &&
    typeof doc.rrtype === 'string' &&
    typeof doc.ttl === 'number' &&
    Array.isArray(doc.records)
  );
}

export function rrsetToDoc(zone: string, rrset: RRset): RRsetDoc {
  return {
    _id: rrsetDocId(zone, rrset.name, rrset.type),
    type: 'rrset',
    zone,
    name: rrset.name,
    rrtype: rrset.type,
    ttl: rrset.ttl,
    records: rrset.records,
    ...(rrset.pool !== undefined ? { pool: rrset.pool } : {}),
  };
}

export function docToRRset(doc: RRsetDoc): RRset {
  const rrset: RRset = { name: doc.name, type: doc.rrtype, ttl: doc.ttl, records: doc.records };
  if (typeof doc.pool === 'string') rrset.pool = doc.pool;
  return rrset;
}

export function docsToZone(zone: string, docs: Iterable<RRsetDoc>): Zone {
  return { name: zone, rrsets: [...docs].map(docToRRset) };
}
