// The immutable in-memory form of one zone that queries are answered from. Built aside from the zone's RRsets
// (zone file or store documents) and swapped in whole, so a query never sees half a zone and a failed build keeps
// the previous one. Record bytes are encoded here, once, not per query.

import { Class, Type, typeCode } from '../dns/constants.js';
import type { RRset, Zone } from './model.js';
import { nameToWire, parentKey, parseName } from './names.js';
import { parseRdataText } from './rdata.js';

export interface IndexedRecord {
  /** Everything after the owner name: TYPE, CLASS, TTL, RDLENGTH, RDATA. */
  tail: Buffer;
  /** Lower-case key of the name additional processing or CNAME chasing follows, if the type has one. */
  target?: string;
}

export interface IndexedRRset {
  type: number;
  ttl: number;
  records: IndexedRecord[];
  /** All records' tails back to back, each to be preceded by the owner name. */
  tailBytes: number;
  /** A dynamic RRset (no records here): its addresses are chosen per query from this pool (src/geo). */
  pool?: string;
}

export interface ZoneNode {
  key: string;
  /** Octets of the owner name on the wire, used to point into the question for suffix compression. */
  wireLength: number;
  /** Uncompressed wire form of the name, for owners that are not a suffix of the question. */
  wire: Buffer;
  rrsets: Map<number, IndexedRRset>;
  /** The topmost delegation point at or above this node (never the apex), when there is one. */
  cut?: ZoneNode;
  /** Per-query-type answer bytes, filled on first use; the node is replaced, never mutated, on change. */
  answerCache: Map<number, unknown>;
}

export interface ZoneIndex {
  apex: ZoneNode;
  nodes: Map<string, ZoneNode>;
  /** The SOA RRset with TTL = min(SOA TTL, SOA MINIMUM), as negative answers carry it (RFC 2308 §3). */
  negativeSoa: IndexedRRset;
  soaSerial: number;
}

export class ZoneIndexError extends Error {}

function encodeTail(type: number, ttl: number, rdata: Buffer): Buffer {
  const tail = Buffer.allocUnsafe(10 + rdata.length);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(Class.IN, 2);
  tail.writeUInt32BE(ttl, 4);
  tail.writeUInt16BE(rdata.length, 8);
  rdata.copy(tail, 10);
  return tail;
}

function indexRRset(zoneName: string, rrset: RRset): IndexedRRset {
  const type = typeCode(rrset.type);
  if (type === undefined) throw new ZoneIndexError(`${rrset.name} has unknown type ${rrset.type}`);
  if (rrset.pool !== undefined) return { type, ttl: rrset.ttl, records: [], tailBytes: 0, pool: rrset.pool };
  const records = rrset.records.map((text) => {
    const parsed = parseRdataText(rrset.type, text, zoneName);
    return { tail: encodeTail(type, rrset.ttl, parsed.wire), target: parsed.target };
  });
  return { type, ttl: rrset.ttl, records, tailBytes: records.reduce((n, r) => n + r.tail.length, 0) };
}

function newNode(key: string): ZoneNode {
  const wire = nameToWire(parseName(key));
  return { key, wireLength: wire.length, wire, rrsets: new Map(), answerCache: new Map() };
}

export function buildZoneIndex(zone: Zone): ZoneIndex {
  const nodes = new Map<string, ZoneNode>();
  const apex = newNode(zone.name);
  nodes.set(zone.name, apex);

  for (const rrset of zone.rrsets) {
    let node = nodes.get(rrset.name);
    if (!node) {
      node = newNode(rrset.name);
      nodes.set(rrset.name, node);
    }
    const indexed = indexRRset(zone.name, rrset);
    if (indexed.records.length > 0 || indexed.pool !== undefined) node.rrsets.set(indexed.type, indexed);
  }

  // Empty non-terminals exist (RFC 4592 §2.2.2): they answer NODATA and block wildcards beneath them.
  for (const key of [...nodes.keys()]) {
    let parent = parentKey(key);
    while (parent !== undefined && parent !== zone.name && parent.endsWith(zone.name) && !nodes.has(parent)) {
      nodes.set(parent, newNode(parent));
      parent = parentKey(parent);
    }
  }

  // Delegation points: NS below the apex. Walk each node's ancestry so the topmost cut wins.
  for (const node of nodes.values()) {
    if (node === apex) continue;
    let cut: ZoneNode | undefined;
    for (let key: string | undefined = node.key; key !== undefined && key !== zone.name; key = parentKey(key)) {
      const ancestor = nodes.get(key);
      if (ancestor && ancestor.rrsets.has(Type.NS)) cut = ancestor;
    }
    node.cut = cut;
  }

  const soa = apex.rrsets.get(Type.SOA);
  if (!soa || soa.records.length !== 1) throw new ZoneIndexError(`zone ${zone.name} has no SOA record at its apex`);
  const soaRdata = soa.records[0].tail;
  // SOA RDATA ends with SERIAL REFRESH RETRY EXPIRE MINIMUM, 4 octets each
  const minimum = soaRdata.readUInt32BE(soaRdata.length - 4);
  const serial = soaRdata.readUInt32BE(soaRdata.length - 20);
  const negTtl = Math.min(soa.ttl, minimum);
  const negTail = Buffer.from(soaRdata);
  negTail.writeUInt32BE(negTtl, 4);
  const negativeSoa: IndexedRRset = { type: Type.SOA, ttl: negTtl, records: [{ tail: negTail }], tailBytes: negTail.length };

  return { apex, nodes, negativeSoa, soaSerial: serial };
}
