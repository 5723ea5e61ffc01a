// How zones live in the store: one document per zone and one per RRset (the CouchDB model the design asks for:
// an edit touches one small document, so concurrent edits of different RRsets never conflict).

import type { StoredDoc } from '../store/store.js';
import type { RRset, Zone } from './model.js';

export interface ZoneDoc extends StoredDoc {
  type: 'zone';
  name: string;
  createdAt: string;
  updatedAt: string;
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

export function isZoneDoc(doc: StoredDoc): doc is ZoneDoc {
  return doc.type === 'zone' && typeof doc.name === 'string';
}

export function isRRsetDoc(doc: StoredDoc): doc is RRsetDoc {
  return (
    doc.type === 'rrset' &&
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
