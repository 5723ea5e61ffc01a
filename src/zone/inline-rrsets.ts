// RRsets carried by the zone document (issue 13: all seven nodes answer a write within a second). A write of a few
// RRsets stores one document, the zone document, holding the new version and the RRsets it wrote (with the SOA and
// its new serial); RRset documents are written only when that inline part grows past a limit (a fold: every inline
// RRset becomes its RRset document again). One document per write is what replication carries fastest: a bulk of
// several reaches a pouchdb-server peer in two rounds, and every document sets off work on every replication.
//
// The content of a zone is then its RRset documents with the zone document's inline RRsets over them. Between an
// inline RRset and an RRset document of the same name and type, the newer version (marker) wins; at the same version
// the document wins (a fold writes the same content). Inline RRsets go through the rest of the code as RRset
// documents with a revision of generation 0 (which CouchDB never issues) naming their version.

import type { StoredDoc } from '../store/store.js';
import { goneDoc, isGoneRRsetDoc, isRRsetDoc, rrsetDocId, rrsetKey, splitRRsetKey, type GoneRRsetDoc, type RRsetDoc, type ZoneDoc } from './zone-docs.js';
import { MARKER_FIELD, newerThan, parseMarker, sameVersion, versionMarker, type Marker } from './zone-version.js';

/** An RRset as the zone document carries it, by "name/TYPE": the document's fields that the key does not say. */
export interface InlineRRset {
  ttl?: number;
  records?: string[];
  pool?: string;
  gone?: true;
  /** The version that wrote it (its marker). */
  zv: string;
  [field: string]: unknown;
}

/** Past either limit a write folds the inline RRsets into RRset documents (a zone document stays small). */
export const INLINE_MAX_RRSETS = 64;
export const INLINE_MAX_BYTES = 32 * 1024;
/** Versions a zone document remembers as its history, to tell after a partition which side changed an RRset. */
export const HISTORY = 32;

/** The revision an inline RRset goes by: generation 0, then the serial (8 hex digits) and hash of its version. */
export function inlineRev(marker: Marker): string {
  return `0-${marker.serial.toString(16).padStart(8, '0')}${marker.hash}`;
}

export function isInlineRev(rev: unknown): boolean {
  return typeof rev === 'string' && rev.startsWith('0-');
}

/** The zone document's inline RRsets as documents (live or gone), each with its version's marker and revision. */
export function inlineDocs(zoneDoc: ZoneDoc | undefined): (RRsetDoc | GoneRRsetDoc)[] {
  const inline = zoneDoc?.inline;
  if (!zoneDoc || typeof inline !== 'object' || inline === null) return [];
  const out: (RRsetDoc | GoneRRsetDoc)[] = [];
  for (const [key, entry] of Object.entries(inline)) {
    const doc = docOf(zoneDoc.name, key, entry);
    if (doc) out.push(doc);
  }
  return out;
}

/** One inline RRset as a document; undefined when it is malformed (an edit made by hand, say). */
export function docOf(zone: string, key: string, entry: InlineRRset): RRsetDoc | GoneRRsetDoc | undefined {
  const marker = parseMarker(entry?.zv);
  if (!marker) return undefined;
  const [name, type] = splitRRsetKey(key);
  if (entry.gone === true) return goneDoc(zone, name, type, entry.zv, inlineRev(marker));
  const { ttl: _ttl, records: _records, gone: _gone, ...rest } = entry;
  const doc: StoredDoc = { ...rest, _id: rrsetDocId(zone, name, type), _rev: inlineRev(marker), type: 'rrset', zone, name, rrtype: type, ttl: entry.ttl, records: entry.records };
  return isRRsetDoc(doc) ? doc : undefined;
}

/** An RRset (or gone) document as the zone document carries it, under the version `marker`. */
export function entryOf(doc: RRsetDoc | GoneRRsetDoc, marker: string): [string, InlineRRset] {
  const key = rrsetKey(doc.name, doc.rrtype);
  if (isGoneRRsetDoc(doc)) return [key, { gone: true, zv: marker }];
  const { _id, _rev, type: _type, zone: _zone, name: _name, rrtype: _rrtype, [MARKER_FIELD]: _marker, ...rest } = doc;
  return [key, { ...rest, zv: marker } as InlineRRset];
}

/** How big the inline part is, to decide on a fold. */
export function inlineFits(inline: Record<string, InlineRRset>): boolean {
  const count = Object.keys(inline).length;
  return count <= INLINE_MAX_RRSETS && JSON.stringify(inline).length <= INLINE_MAX_BYTES;
}

/** What decides between two states of one RRset: its revision (inline or not) and its version's marker. */
export interface Rank {
  rev: string | undefined;
  marker: Marker | undefined;
}

export function rankOf(doc: StoredDoc | null | undefined, rev = doc?._rev): Rank {
  return { rev, marker: doc ? parseMarker(doc[MARKER_FIELD]) : undefined };
}

/**
 * Whether `incoming` replaces `current` for one RRset. Two RRset documents: always (CouchDB's revisions decide).
 * An inline RRset against a document: the newer version wins, the document at the same version; a document without
 * a version (or a deletion) never wins over an inline RRset.
 */
export function replaces(incoming: Rank, current: Rank): boolean {
  const inlineIn = isInlineRev(incoming.rev);
  const inlineNow = isInlineRev(current.rev);
  if (!inlineIn && !inlineNow) return true;
  if (inlineIn && inlineNow) return !(current.marker && incoming.marker && newerThan(current.marker, incoming.marker));
  if (inlineIn) return current.marker === undefined || (incoming.marker !== undefined && newerThan(incoming.marker, current.marker));
  return incoming.marker !== undefined && current.marker !== undefined && !newerThan(current.marker, incoming.marker);
}

/**
 * The content of a zone as its documents say: the RRset documents with the zone document's inline RRsets over them
 * (each the winner by `replaces`). Gone ones included; `isRRsetDoc` tells the live ones.
 */
export function overlay(zoneDoc: ZoneDoc | undefined, docs: readonly StoredDoc[]): StoredDoc[] {
  const byId = new Map<string, StoredDoc>();
  for (const doc of docs) byId.set(doc._id, doc);
  for (const doc of inlineDocs(zoneDoc)) {
    const current = byId.get(doc._id);
    if (!current || replaces(rankOf(doc), rankOf(current))) byId.set(doc._id, doc);
  }
  return [...byId.values()];
}

/** The versions a zone document has been through, newest last (its own included). */
export function historyOf(zoneDoc: ZoneDoc | undefined): Marker[] {
  const list = Array.isArray(zoneDoc?.history) ? zoneDoc.history : [];
  return list.flatMap((m) => parseMarker(m) ?? []);
}

/**
 * The history a new version `marker` carries, written on top of `sides` (one zone document, or for a merge every
 * revision merged): their histories and versions, in serial order, then `marker`, the last HISTORY of them.
 */
export function nextHistory(sides: ZoneDoc | undefined | readonly ZoneDoc[], marker: Marker): string[] {
  const list: Marker[] = [];
  const add = (m: Marker): void => {
    if (!sameVersion(m, marker) && !list.some((n) => sameVersion(n, m))) list.push({ serial: m.serial, hash: m.hash });
  };
  for (const side of Array.isArray(sides) ? sides : [sides]) {
    for (const m of historyOf(side)) add(m);
    const version = side?.version;
    if (version && typeof version === 'object') add(version);
  }
  list.sort((a, b) => (newerThan(a, b) ? 1 : newerThan(b, a) ? -1 : 0));
  list.push(marker);
  return list.slice(-HISTORY).map(versionMarker);
}

/**
 * The RRset documents that fold the inline RRsets `inline` under version `marker`: each written over the revision of
 * its RRset document in `real` (by id); a gone one only where a live document needs a gone marker over it. Answers
 * the documents and the key of each.
 */
export function foldDocs(zone: string, inline: Record<string, InlineRRset>, real: ReadonlyMap<string, StoredDoc>, marker: string): { docs: StoredDoc[]; keys: string[] } {
  const docs: StoredDoc[] = [];
  const keys: string[] = [];
  for (const [key, entry] of Object.entries(inline)) {
    const doc = docOf(zone, key, { ...entry, zv: marker });
    if (!doc) continue;
    const stored = real.get(doc._id);
    if (isGoneRRsetDoc(doc)) {
      if (!stored || !isRRsetDoc(stored)) continue;
      docs.push(goneDoc(zone, doc.name, doc.rrtype, marker, stored._rev));
    } else {
      const out: StoredDoc = { ...doc };
      if (stored?._rev) out._rev = stored._rev;
      else delete out._rev;
      docs.push(out);
    }
    keys.push(key);
  }
  return { docs, keys };
}
