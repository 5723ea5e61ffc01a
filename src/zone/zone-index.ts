// The immutable in-memory form of one zone that queries are answered from. Built aside from the zone's RRsets
// (zone file or store documents) and swapped in whole, so a query never sees half a zone and a failed build keeps
// the previous one. Record bytes are encoded here, once, not per query.
//
// Memory matters more than anywhere else here (issue 7: 100,000 RRsets beside the GeoIP files in 350 MB), so a zone
// keeps the bytes of all its records in one slab, an RRset is a small object pointing into it, a name holds its
// RRsets itself, and what most names never need (answer cache, wire form of the owner) is made on first use.

import { Class, Type, typeCode } from '../proto/constants.js';
import type { RRset, Zone } from './model.js';
import { nameToWire, parentKey, parseName } from '../proto/names.js';
import { parseRdataText, type ParsedRdata } from '../proto/rdata.js';

export interface IndexedRecord {
  /** Everything after the owner name: TYPE, CLASS, TTL, RDLENGTH, RDATA. */
  tail: Buffer;
  /** Lower-case key of the name additional processing or CNAME chasing follows, if the type has one. */
  target?: string;
}

export interface IndexedRRset {
  type: number;
  ttl: number;
  records: readonly IndexedRecord[];
  /** All records' tails back to back, each to be preceded by the owner name. */
  tailBytes: number;
  /** A dynamic RRset (no records here): its addresses are chosen per query from this pool (src/geo). */
  pool?: string;
}

/** TYPE, CLASS, TTL, RDLENGTH before each record's RDATA. */
const TAIL_HEADER = 10;
const NO_RECORDS: readonly IndexedRecord[] = Object.freeze([]);

/**
 * An RRset whose tails lie back to back in its zone's slab. Its record objects are made when asked for: answers are
 * cached as bytes per name (src/dns/handler.ts), so they are asked for once per name and type, not per query.
 */
class SlabRRset implements IndexedRRset {
  constructor(
    readonly type: number,
    readonly ttl: number,
    private readonly slab: Buffer,
    private readonly start: number,
    readonly tailBytes: number,
    /** Chase targets by record, only for types that have them. */
    private readonly targets: readonly (string | undefined)[] | undefined,
  ) {}

  get records(): IndexedRecord[] {
    const records: IndexedRecord[] = [];
    const end = this.start + this.tailBytes;
    for (let off = this.start, i = 0; off < end; i++) {
      const next = off + TAIL_HEADER + this.slab.readUInt16BE(off + 8);
      const tail = this.slab.subarray(off, next);
      const target = this.targets?.[i];
      records.push(target === undefined ? { tail } : { tail, target });
      off = next;
    }
    return records;
  }
}

const NO_RRSETS: readonly IndexedRRset[] = Object.freeze([]);

/**
 * One name of the zone. Its RRsets by type answer as a Map would (`node.rrsets.get(type)`), but a node is its own
 * table and holds its one RRset directly, or a short exact-size array: a name has a type or three, and a Map per
 * name cost ~600 bytes where this costs ~70.
 */
export class ZoneNode {
  /** The topmost delegation point at or above this node (never the apex), when there is one. */
  cut: ZoneNode | undefined = undefined;
  #wire: Buffer | undefined = undefined;
  #answers: Map<number, unknown> | undefined = undefined;

  constructor(
    readonly key: string,
    private readonly held: IndexedRRset | readonly IndexedRRset[],
  ) {}

  get rrsets(): this {
    return this;
  }

  get(type: number): IndexedRRset | undefined {
    const held = this.held;
    if (!isList(held)) return held.type === type ? held : undefined;
    for (const rrset of held) if (rrset.type === type) return rrset;
    return undefined;
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }

  values(): IterableIterator<IndexedRRset> {
    const held = this.held;
    return isList(held) ? held.values() : [held].values();
  }

  get size(): number {
    return isList(this.held) ? this.held.length : 1;
  }

  /** Uncompressed wire form of the name, for owners that are not a suffix of the question. */
  get wire(): Buffer {
    return (this.#wire ??= nameToWire(parseName(this.key)));
  }

  /** Per-query-type answer bytes, filled on first use; the node is replaced, never mutated, on change. */
  get answerCache(): Map<number, unknown> {
    return (this.#answers ??= new Map());
  }
}

function isList(held: IndexedRRset | readonly IndexedRRset[]): held is readonly IndexedRRset[] {
  return Array.isArray(held);
}

export interface ZoneIndex {
  apex: ZoneNode;
  nodes: Map<string, ZoneNode>;
  /** The SOA RRset with TTL = min(SOA TTL, SOA MINIMUM), as negative answers carry it (RFC 2308 §3). */
  negativeSoa: IndexedRRset;
  soaSerial: number;
}

export class ZoneIndexError extends Error {}

/** Records already parsed (by validateZone), so a zone's records are parsed once per build. */
export type ParsedRecords = Map<RRset, ParsedRdata[]>;

interface Encoding {
  rrset: RRset;
  type: number;
  parsed: ParsedRdata[];
}

function parseRecords(zoneName: string, rrset: RRset, parsed: ParsedRecords | undefined): Encoding {
  const type = typeCode(rrset.type);
  if (type === undefined) throw new ZoneIndexError(`${rrset.name} has unknown type ${rrset.type}`);
  if (rrset.pool !== undefined) return { rrset, type, parsed: [] };
  return { rrset, type, parsed: parsed?.get(rrset) ?? rrset.records.map((text) => parseRdataText(rrset.type, text, zoneName)) };
}

/** Writes every record of the zone into one slab and returns each RRset's view of it, in the order given. */
function encodeAll(encodings: Encoding[]): (IndexedRRset | undefined)[] {
  let size = 0;
  for (const { parsed } of encodings) for (const record of parsed) size += TAIL_HEADER + record.wire.length;
  const slab = Buffer.allocUnsafeSlow(size);
  let off = 0;
  return encodings.map(({ rrset, type, parsed }) => {
    if (rrset.pool !== undefined) return { type, ttl: rrset.ttl, records: NO_RECORDS, tailBytes: 0, pool: rrset.pool };
    if (parsed.length === 0) return undefined;
    const start = off;
    let targets: (string | undefined)[] | undefined;
    parsed.forEach((record, i) => {
      slab.writeUInt16BE(type, off);
      slab.writeUInt16BE(Class.IN, off + 2);
      slab.writeUInt32BE(rrset.ttl, off + 4);
      slab.writeUInt16BE(record.wire.length, off + 8);
      off += TAIL_HEADER + record.wire.copy(slab, off + TAIL_HEADER);
      if (record.target !== undefined) (targets ??= new Array<string | undefined>(parsed.length))[i] = record.target;
    });
    return new SlabRRset(type, rrset.ttl, slab, start, off - start, targets);
  });
}

export function buildZoneIndex(zone: Zone, parsed?: ParsedRecords): ZoneIndex {
  const encodings = zone.rrsets.map((rrset) => parseRecords(zone.name, rrset, parsed));
  const indexed = encodeAll(encodings);

  // Owner → its RRsets; a later RRset of the same type at a name replaces an earlier one.
  const byName = new Map<string, IndexedRRset[]>([[zone.name, []]]);
  zone.rrsets.forEach((rrset, i) => {
    let list = byName.get(rrset.name);
    if (!list) {
      list = [];
      byName.set(rrset.name, list);
    }
    const one = indexed[i];
    if (one === undefined) return;
    const same = list.findIndex((r) => r.type === one.type);
    if (same >= 0) list[same] = one;
    else list.push(one);
  });

  const nodes = new Map<string, ZoneNode>();
  // Arrays grown by push keep spare room; the copies are exact.
  for (const [key, list] of byName) nodes.set(key, new ZoneNode(key, list.length === 0 ? NO_RRSETS : list.length === 1 ? list[0] : list.slice()));
  const apex = nodes.get(zone.name) as ZoneNode;

  // Empty non-terminals exist (RFC 4592 §2.2.2): they answer NODATA and block wildcards beneath them.
  for (const key of [...nodes.keys()]) {
    let parent = parentKey(key);
    while (parent !== undefined && parent !== zone.name && parent.endsWith(zone.name) && !nodes.has(parent)) {
      nodes.set(parent, new ZoneNode(parent, NO_RRSETS));
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
  const soaRecords = soa?.records ?? [];
  if (!soa || soaRecords.length !== 1) throw new ZoneIndexError(`zone ${zone.name} has no SOA record at its apex`);
  const soaTail = soaRecords[0].tail;
  // SOA RDATA ends with SERIAL REFRESH RETRY EXPIRE MINIMUM, 4 octets each
  const minimum = soaTail.readUInt32BE(soaTail.length - 4);
  const serial = soaTail.readUInt32BE(soaTail.length - 20);
  const negTtl = Math.min(soa.ttl, minimum);
  const negTail = Buffer.from(soaTail);
  negTail.writeUInt32BE(negTtl, 4);
  const negativeSoa: IndexedRRset = { type: Type.SOA, ttl: negTtl, records: [{ tail: negTail }], tailBytes: negTail.length };

  return { apex, nodes, negativeSoa, soaSerial: serial };
}
