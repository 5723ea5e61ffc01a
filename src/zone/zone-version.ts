// Zone versions: what lets every node switch from one state of a zone to the next at once (issue 13).
//
// A write through edgedns (an import, a replace, a PATCH, one RRset) writes its RRset documents and, in the same
// bulk, the zone document naming the version they make: the SOA serial and a hash of the whole zone's content (the
// sum of one hash per RRset, so a writer that changes three RRsets updates it without reading the others). Each
// RRset document it writes carries the version as its marker. CouchDB replication delivers documents in any order
// and may skip revisions, so a node holds documents whose marker is newer than the version it serves, and switches
// when what it holds adds up to the version's hash (or, for a write on top of the version it serves, when every
// RRset the write lists is there). An equal serial then means equal content: see docs/zones.md, "Serials".

import { serialGreater } from './serial.js';

/** The field of an RRset document that names the version it was written for. */
export const MARKER_FIELD = 'zv';

export interface ZoneVersion {
  serial: number;
  /** 13 hex digits: the sum modulo 2^52 of the content hashes of every RRset of the zone. */
  hash: string;
  /** The version this one was written on top of (its marker), when the writer read it. */
  prev?: string;
  /**
   * RRset document id → content hash ("" for gone) of every RRset this version wrote, for a write of a few RRsets
   * (absent for imports and replaces, which rewrite the whole zone and whose hash the writer computed in full).
   */
  changes?: Record<string, string>;
}

/** Hashes are 52-bit integers: exact in a JS number, so sums and differences need no BigInt and no allocation. */
const SPACE = 2 ** 52;

/** The content of an RRset as it is answered: owner, type, TTL, records, pool. */
export interface RRsetContent {
  name: string;
  rrtype: string;
  ttl: number;
  records: readonly string[];
  pool?: unknown;
}

/**
 * A 52-bit hash of an RRset's content: two 32-bit string hashes (FNV-1a and a multiplicative one with another
 * seed) put side by side. Not a cryptographic hash: it tells versions apart for nodes that trust their writers.
 */
export function contentHash(rrset: RRsetContent): number {
  const text = JSON.stringify([rrset.name, rrset.rrtype, rrset.ttl, rrset.records, typeof rrset.pool === 'string' ? rrset.pool : null]);
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) >>> 12);
}

export function addHash(sum: number, hash: number): number {
  return (sum + hash) % SPACE;
}

export function subtractHash(sum: number, hash: number): number {
  return (sum - hash + SPACE) % SPACE;
}

export function hashText(hash: number): string {
  return hash.toString(16).padStart(13, '0');
}

export function parseHash(text: string): number {
  return Number.parseInt(text, 16);
}

/** The marker of a version: its serial and hash, which tell two versions made on two sides of a partition apart. */
export function versionMarker(version: { serial: number; hash: string }): string {
  return `${version.serial}:${version.hash}`;
}

export interface Marker {
  serial: number;
  hash: string;
}

export function parseMarker(value: unknown): Marker | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{1,10}):([0-9a-f]{13})$/.exec(value);
  if (!match) return undefined;
  const serial = Number(match[1]);
  return serial < 2 ** 32 ? { serial, hash: match[2] } : undefined;
}

export function sameVersion(a: Marker | undefined, b: Marker | undefined): boolean {
  return a !== undefined && b !== undefined && a.serial === b.serial && a.hash === b.hash;
}

/** Is marker `a` of a later version than `b` (RFC 1982 serial order)? */
export function newerThan(a: Marker, b: Marker): boolean {
  return serialGreater(a.serial, b.serial);
}

/** A zone document's version field, when it is well formed. */
export function parseVersion(value: unknown): ZoneVersion | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.serial !== 'number' || !Number.isInteger(v.serial) || v.serial < 0 || v.serial >= 2 ** 32) return undefined;
  if (typeof v.hash !== 'string' || !/^[0-9a-f]{13}$/.test(v.hash)) return undefined;
  const version: ZoneVersion = { serial: v.serial, hash: v.hash };
  if (typeof v.prev === 'string' && parseMarker(v.prev)) version.prev = v.prev;
  if (typeof v.changes === 'object' && v.changes !== null) {
    const changes: Record<string, string> = {};
    for (const [id, hash] of Object.entries(v.changes)) if (typeof hash === 'string' && (hash === '' || /^[0-9a-f]{13}$/.test(hash))) changes[id] = hash;
    version.changes = changes;
  }
  return version;
}
