// The immutable in-memory form of one zone that queries are answered from. Built aside from the zone's RRsets
// (zone file or store documents) and swapped in whole, so a query never sees half a zone and a failed build keeps
// the previous one. Record bytes are encoded here, once, not per query.
//
// Memory matters more than anywhere else here (issue 7: 100,000 RRsets beside the GeoIP files in 350 MB), so a zone
// keeps the bytes of all its records in one slab, an RRset is a small object pointing into it, a name holds its
// RRsets itself, and what most names never need (answer cache, wire form of the owner) is made on first use.
//
// Issue 13: a big zone is built in steps (slices.ts) so other zones keep answering meanwhile, and a change of a few
// names is patched into the index (patchZoneIndex) instead of rebuilding the zone: the new nodes are made aside,
// then put in place in one synchronous step, which no query can see half done.

import { Class, Type, typeCode } from '../proto/constants.js';
import type { RRset, Zone } from './model.js';
import { nameToWire, parentKey, parseName } from '../proto/names.js';
import { parseRdataText, type ParsedRdata } from '../proto/rdata.js';
import { runAtOnce, STEP_ITEMS, type Steps } from './slices.js';

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
  /** Nodes directly below this one: a name without RRsets stays (an empty non-terminal) while it has any. */
  children = 0;
  #wire: Buffer | undefined = undefined;
  #answers: Map<number, unknown> | undefined = undefined;
  #answersEpoch = 0;

  constructor(
    readonly key: string,
    private readonly held: IndexedRRset | readonly IndexedRRset[],
    /** Shared by every node of the zone; moved on each patch, which empties every node's answer cache. */
    private readonly epoch: Epoch,
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

  /**
   * Per-query-type answer bytes, filled on first use. A cached answer may hold other names' data (CNAME targets,
   * glue, the SOA of a negative answer), so a patch anywhere in the zone empties them all, by moving the epoch.
   */
  get answerCache(): Map<number, unknown> {
    if (this.#answersEpoch !== this.epoch.value) {
      this.#answers = undefined;
      this.#answersEpoch = this.epoch.value;
    }
    return (this.#answers ??= new Map());
  }
}

/** A zone's generation of answer caches. */
export interface Epoch {
  value: number;
}

function isList(held: IndexedRRset | readonly IndexedRRset[]): held is readonly IndexedRRset[] {
  return Array.isArray(held);
}

export interface ZoneIndex {
  apex: ZoneNode;
  /** Every name of the zone; a patch changes it in place, in one synchronous step. */
  nodes: Map<string, ZoneNode>;
  /** The SOA RRset with TTL = min(SOA TTL, SOA MINIMUM), as negative answers carry it (RFC 2308 §3). */
  negativeSoa: IndexedRRset;
  soaSerial: number;
  epoch: Epoch;
  /** Names patched since the index was built whole (their old record bytes stay in the slab until a rebuild). */
  patched: number;
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

/** Writes every record given into one slab and returns each RRset's view of it, in the order given. */
function encodeAll(encodings: Encoding[]): (IndexedRRset | undefined)[] {
  return runAtOnce(encodeAllSteps(encodings));
}

function* encodeAllSteps(encodings: Encoding[]): Steps<(IndexedRRset | undefined)[]> {
  let size = 0;
  for (const { parsed } of encodings) for (const record of parsed) size += TAIL_HEADER + record.wire.length;
  const slab = Buffer.allocUnsafeSlow(size);
  let off = 0;
  const out: (IndexedRRset | undefined)[] = [];
  for (const { rrset, type, parsed } of encodings) {
    out.push(encodeOne(slab, off, rrset, type, parsed));
    off += out[out.length - 1]?.tailBytes ?? 0;
    if (out.length % STEP_ITEMS === 0) yield;
  }
  return out;
}

/** Writes one RRset's records into the slab at `at`; a pool RRset has none, an RRset without records is nothing. */
function encodeOne(slab: Buffer, at: number, rrset: RRset, type: number, parsed: ParsedRdata[]): IndexedRRset | undefined {
  if (rrset.pool !== undefined) return { type, ttl: rrset.ttl, records: NO_RECORDS, tailBytes: 0, pool: rrset.pool };
  if (parsed.length === 0) return undefined;
  let off = at;
  let targets: (string | undefined)[] | undefined;
  parsed.forEach((record, i) => {
    slab.writeUInt16BE(type, off);
    slab.writeUInt16BE(Class.IN, off + 2);
    slab.writeUInt32BE(rrset.ttl, off + 4);
    slab.writeUInt16BE(record.wire.length, off + 8);
    off += TAIL_HEADER + record.wire.copy(slab, off + TAIL_HEADER);
    if (record.target !== undefined) (targets ??= new Array<string | undefined>(parsed.length))[i] = record.target;
  });
  return new SlabRRset(type, rrset.ttl, slab, at, off - at, targets);
}

/** A name's RRsets as a node holds them: one directly, several in an exact-size array; a later type replaces an earlier. */
function nodeHolding(rrsets: readonly IndexedRRset[]): IndexedRRset | readonly IndexedRRset[] {
  const list: IndexedRRset[] = [];
  for (const one of rrsets) {
    const same = list.findIndex((r) => r.type === one.type);
    if (same >= 0) list[same] = one;
    else list.push(one);
  }
  return list.length === 0 ? NO_RRSETS : list.length === 1 ? list[0] : list;
}

/** The topmost delegation (NS below the apex) at or above `key`. */
function cutOf(nodes: Map<string, ZoneNode>, key: string, apex: string): ZoneNode | undefined {
  let cut: ZoneNode | undefined;
  for (let k: string | undefined = key; k !== undefined && k !== apex; k = parentKey(k)) {
    const ancestor = nodes.get(k);
    if (ancestor && ancestor.rrsets.has(Type.NS)) cut = ancestor;
  }
  return cut;
}

function soaOf(zoneName: string, apex: ZoneNode): { negativeSoa: IndexedRRset; soaSerial: number } {
  const soa = apex.rrsets.get(Type.SOA);
  const soaRecords = soa?.records ?? [];
  if (!soa || soaRecords.length !== 1) throw new ZoneIndexError(`zone ${zoneName} has no SOA record at its apex`);
  const soaTail = soaRecords[0].tail;
  // SOA RDATA ends with SERIAL REFRESH RETRY EXPIRE MINIMUM, 4 octets each
  const minimum = soaTail.readUInt32BE(soaTail.length - 4);
  const serial = soaTail.readUInt32BE(soaTail.length - 20);
  const negTtl = Math.min(soa.ttl, minimum);
  const negTail = Buffer.from(soaTail);
  negTail.writeUInt32BE(negTtl, 4);
  return { negativeSoa: { type: Type.SOA, ttl: negTtl, records: [{ tail: negTail }], tailBytes: negTail.length }, soaSerial: serial };
}

export function buildZoneIndex(zone: Zone, parsed?: ParsedRecords): ZoneIndex {
  return runAtOnce(zoneIndexSteps(zone, parsed));
}

/** buildZoneIndex in steps (slices.ts): a big zone is built aside while other zones keep answering. */
export function* zoneIndexSteps(zone: Zone, parsed?: ParsedRecords): Steps<ZoneIndex> {
  const encodings: Encoding[] = [];
  let step = 0;
  for (const rrset of zone.rrsets) {
    encodings.push(parseRecords(zone.name, rrset, parsed));
    if (++step % STEP_ITEMS === 0) yield;
  }
  const indexed = yield* encodeAllSteps(encodings);

  // Owner → its RRsets; a later RRset of the same type at a name replaces an earlier one.
  const byName = new Map<string, IndexedRRset[]>([[zone.name, []]]);
  for (let i = 0; i < zone.rrsets.length; i++) {
    const rrset = zone.rrsets[i];
    let list = byName.get(rrset.name);
    if (!list) {
      list = [];
      byName.set(rrset.name, list);
    }
    const one = indexed[i];
    if (one !== undefined) list.push(one);
    if ((i + 1) % STEP_ITEMS === 0) yield;
  }

  const epoch: Epoch = { value: 0 };
  const nodes = new Map<string, ZoneNode>();
  for (const [key, list] of byName) {
    nodes.set(key, new ZoneNode(key, nodeHolding(list), epoch));
    if (++step % STEP_ITEMS === 0) yield;
  }
  const apex = nodes.get(zone.name) as ZoneNode;

  // Empty non-terminals exist (RFC 4592 §2.2.2): they answer NODATA and block wildcards beneath them.
  for (const key of [...nodes.keys()]) {
    let parent = parentKey(key);
    while (parent !== undefined && parent !== zone.name && parent.endsWith(zone.name) && !nodes.has(parent)) {
      nodes.set(parent, new ZoneNode(parent, NO_RRSETS, epoch));
      parent = parentKey(parent);
    }
    if (++step % STEP_ITEMS === 0) yield;
  }

  // Delegation points: NS below the apex; the topmost cut wins. And each node's count of names directly below.
  for (const node of nodes.values()) {
    if (node !== apex) {
      node.cut = cutOf(nodes, node.key, zone.name);
      const parent = parentKey(node.key);
      const above = parent === undefined ? undefined : nodes.get(parent);
      if (above) above.children++;
    }
    if (++step % STEP_ITEMS === 0) yield;
  }

  return { apex, nodes, ...soaOf(zone.name, apex), epoch, patched: 0 };
}

/**
 * Puts new RRsets at some names of an index: `names` maps each changed owner to every RRset it has now (none: the
 * name is gone). Everything that can fail (parsing, encoding, the SOA) is done before the first node changes; the
 * changes themselves are one synchronous step, so a query sees the old zone or the new one. Names that are or were
 * delegations need the zone rebuilt (the caller's job: their descendants' cuts would move).
 */
export function patchZoneIndex(index: ZoneIndex, zoneName: string, names: ReadonlyMap<string, readonly RRset[]>, parsed?: ParsedRecords): ZoneIndex {
  const order: string[] = [];
  const encodings: Encoding[] = [];
  const owners: number[] = [];
  for (const [name, rrsets] of names) {
    const at = order.push(name) - 1;
    for (const rrset of rrsets) {
      encodings.push(parseRecords(zoneName, rrset, parsed));
      owners.push(at);
    }
  }
  const indexed = encodeAll(encodings);
  const lists = order.map((): IndexedRRset[] => []);
  indexed.forEach((one, i) => {
    if (one !== undefined) lists[owners[i]].push(one);
  });
  const { nodes, epoch } = index;
  const holdings = lists.map(nodeHolding);
  const apexAt = order.indexOf(zoneName);
  // The SOA comes from the new apex when the apex changes: checked now, while nothing has been touched.
  const newApex = apexAt >= 0 ? new ZoneNode(zoneName, holdings[apexAt], epoch) : index.apex;
  const soa = soaOf(zoneName, newApex);

  // From here on nothing throws.
  const made: ZoneNode[] = [];
  order.forEach((name, i) => {
    const holding = holdings[i];
    const old = nodes.get(name);
    const empty = holding === NO_RRSETS;
    if (name === zoneName) {
      newApex.children = old?.children ?? 0;
      nodes.set(name, newApex);
    } else if (!empty || (old !== undefined && old.children > 0)) {
      const node = new ZoneNode(name, holding, epoch);
      node.children = old?.children ?? 0;
      nodes.set(name, node);
      made.push(node);
      if (!old) made.push(...addAncestors(nodes, name, zoneName, epoch));
    } else if (old) {
      removeWithEmptyAncestors(nodes, name, zoneName);
    }
  });
  for (const node of made) if (nodes.get(node.key) === node) node.cut = cutOf(nodes, node.key, zoneName);
  epoch.value++;
  return { apex: nodes.get(zoneName) as ZoneNode, nodes, ...soa, epoch, patched: index.patched + order.length };
}

/** Counts a new name in its parent, making the empty non-terminals above it that are missing; returns those made. */
function addAncestors(nodes: Map<string, ZoneNode>, name: string, apex: string, epoch: Epoch): ZoneNode[] {
  const made: ZoneNode[] = [];
  for (let parent = parentKey(name); parent !== undefined && parent.endsWith(apex); parent = parentKey(parent)) {
    const existing = nodes.get(parent);
    if (existing) {
      existing.children++;
      break;
    }
    const ent = new ZoneNode(parent, NO_RRSETS, epoch);
    ent.children = 1;
    nodes.set(parent, ent);
    made.push(ent);
  }
  return made;
}

/** Removes a name without children, and the empty non-terminals above it that it alone kept. */
function removeWithEmptyAncestors(nodes: Map<string, ZoneNode>, name: string, apex: string): void {
  nodes.delete(name);
  for (let parent = parentKey(name); parent !== undefined; parent = parentKey(parent)) {
    const node = nodes.get(parent);
    if (!node) break;
    node.children--;
    if (parent === apex || node.size > 0 || node.children > 0) break;
    nodes.delete(parent);
  }
}
