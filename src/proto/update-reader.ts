// Reads a DNS UPDATE message (RFC 2136 §2): header, zone section, prerequisites, updates, and the additional
// section's OPT and TSIG. Every count and length is bounded by the message itself; names may be compressed, in
// owner names and in the rdata of the RFC 1035 types that allow it (RFC 3597 §4), and come out uncompressed, so
// rdata can be decoded on its own. What is malformed is a FORMERR with the reason; nothing here throws.

import { Class, Rcode, Type } from './constants.js';
import { nameToWire } from './names.js';
import { labelsKey, readWireName } from './wire-name.js';

export interface UpdateRecord {
  /** Owner name key ("www.example.com."). */
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** RDATA with its names uncompressed; empty when RDLENGTH is 0. */
  rdata: Buffer;
}

export interface TsigRecordAt {
  /** Offset of the TSIG RR in the message: what the MAC covers ends here. */
  start: number;
  /** Key name: its key (lower case) and its labels as sent. */
  keyName: string;
  keyLabels: string[];
  algorithm: string;
  algorithmLabels: string[];
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

export interface UpdateMessage {
  id: number;
  /** The header's second 16 bits as received. */
  flags: number;
  zone: string;
  zoneClass: number;
  zoneType: number;
  /** Offset just past the zone section: bytes 12..zoneEnd are echoed in the response. */
  zoneEnd: number;
  prerequisites: UpdateRecord[];
  updates: UpdateRecord[];
  edns?: { udpSize: number; version: number };
  tsig?: TsigRecordAt;
}

export interface UpdateReadError {
  rcode: number;
  id: number;
  flags: number;
  /** 12 when the zone section could not be read (the response then has none). */
  zoneEnd: number;
  reason: string;
  /** A TSIG that was read before the fault, so the error can name the key (it is not signed: RFC 8945 §5.2). */
  tsig?: TsigRecordAt;
}

export type UpdateRead = { update: UpdateMessage } | { error: UpdateReadError };

/** Fixed octets before and after the names in rdata, for the types whose rdata names may be compressed. */
const COMPRESSIBLE: ReadonlyMap<number, readonly ('name' | number)[]> = new Map<number, ('name' | number)[]>([
  [Type.NS, ['name']],
  [3, ['name']], // MD
  [4, ['name']], // MF
  [Type.CNAME, ['name']],
  [Type.SOA, ['name', 'name', 20]],
  [7, ['name']], // MB
  [8, ['name']], // MG
  [9, ['name']], // MR
  [Type.PTR, ['name']],
  [14, ['name', 'name']], // MINFO
  [Type.MX, [2, 'name']],
  // RFC 3597 §4: receivers decompress these too, though senders should not compress them
  [17, ['name', 'name']], // RP
  [18, [2, 'name']], // AFSDB
  [21, [2, 'name']], // RT
  [26, [2, 'name', 'name']], // PX
  [Type.SRV, [6, 'name']],
  [36, [2, 'name']], // KX
]);

/** The rdata at [start, end) with its names uncompressed, or a reason it is malformed. */
function expandRdata(msg: Buffer, type: number, start: number, end: number): Buffer | string {
  const layout = COMPRESSIBLE.get(type);
  if (layout === undefined || start === end) return Buffer.from(msg.subarray(start, end));
  const parts: Buffer[] = [];
  let pos = start;
  for (const field of layout) {
    if (field === 'name') {
      const name = readWireName(msg, pos);
      if (!name || name.end > end) return 'a name in rdata is malformed or runs past its record';
      parts.push(nameToWire(name.labels));
      pos = name.end;
    } else {
      if (pos + field > end) return 'rdata is too short for its type';
      parts.push(msg.subarray(pos, pos + field));
      pos += field;
    }
  }
  if (pos !== end) return 'rdata has octets left over after its fields';
  return Buffer.concat(parts);
}

/** TSIG rdata (RFC 8945 §4.2) at [start, end). */
function readTsig(msg: Buffer, rrStart: number, keyLabels: string[], start: number, end: number): TsigRecordAt | string {
  const algorithm = readWireName(msg, start);
  if (!algorithm || algorithm.end + 10 > end) return 'TSIG algorithm name is malformed';
  let pos = algorithm.end;
  const timeSigned = msg.readUInt16BE(pos) * 2 ** 32 + msg.readUInt32BE(pos + 2);
  const fudge = msg.readUInt16BE(pos + 6);
  const macSize = msg.readUInt16BE(pos + 8);
  pos += 10;
  if (pos + macSize + 6 > end) return 'TSIG MAC runs past its record';
  const mac = Buffer.from(msg.subarray(pos, pos + macSize));
  pos += macSize;
  const originalId = msg.readUInt16BE(pos);
  const error = msg.readUInt16BE(pos + 2);
  const otherLen = msg.readUInt16BE(pos + 4);
  pos += 6;
  if (pos + otherLen !== end) return 'TSIG other data does not end its record';
  return {
    start: rrStart,
    keyName: labelsKey(keyLabels),
    keyLabels,
    algorithm: labelsKey(algorithm.labels),
    algorithmLabels: algorithm.labels,
    timeSigned,
    fudge,
    mac,
    originalId,
    error,
    other: Buffer.from(msg.subarray(pos, end)),
  };
}

export function readUpdate(msg: Buffer): UpdateRead {
  // The caller only sends messages of at least a header with opcode UPDATE here.
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  const fail = (reason: string, zoneEnd = 12, rcode: number = Rcode.FORMERR, tsig?: TsigRecordAt): UpdateRead => ({ error: { rcode, id, flags, zoneEnd, reason, ...(tsig ? { tsig } : {}) } });
  const zocount = msg.readUInt16BE(4);
  const prcount = msg.readUInt16BE(6);
  const upcount = msg.readUInt16BE(8);
  const adcount = msg.readUInt16BE(10);
  // RFC 2136 §3.1.1: exactly one zone, of type SOA
  if (zocount !== 1) return fail(`zone count ${zocount}`);
  const zone = readWireName(msg, 12);
  if (!zone || zone.end + 4 > msg.length) return fail('malformed zone section');
  const zoneType = msg.readUInt16BE(zone.end);
  const zoneClass = msg.readUInt16BE(zone.end + 2);
  const zoneEnd = zone.end + 4;
  if (zoneType !== Type.SOA) return fail(`zone section type ${zoneType} is not SOA`, zoneEnd);
  // Each record takes at least 11 octets: counts the message cannot hold are refused before any allocation.
  if ((prcount + upcount + adcount) * 11 > msg.length - zoneEnd) return fail('record counts exceed what the message holds', zoneEnd);

  const prerequisites: UpdateRecord[] = [];
  const updates: UpdateRecord[] = [];
  let edns: UpdateMessage['edns'];
  let tsig: TsigRecordAt | undefined;
  let pos = zoneEnd;
  const total = prcount + upcount + adcount;
  for (let i = 0; i < total; i++) {
    const rrStart = pos;
    const owner = readWireName(msg, pos);
    if (!owner || owner.end + 10 > msg.length) return fail('record runs past the end of the message', zoneEnd, Rcode.FORMERR, tsig);
    pos = owner.end;
    const type = msg.readUInt16BE(pos);
    const rrClass = msg.readUInt16BE(pos + 2);
    const ttl = msg.readUInt32BE(pos + 4);
    const rdlength = msg.readUInt16BE(pos + 8);
    pos += 10;
    const rdEnd = pos + rdlength;
    if (rdEnd > msg.length) return fail('rdata runs past the end of the message', zoneEnd, Rcode.FORMERR, tsig);
    // RFC 8945 §5.1: TSIG must be the last record; anything after one is a format error
    if (tsig) return fail('a record follows the TSIG record', zoneEnd, Rcode.FORMERR, tsig);
    if (i >= prcount + upcount) {
      if (type === Type.OPT) {
        if (edns) return fail('more than one OPT record', zoneEnd);
        if (owner.labels.length !== 0) return fail('OPT owner is not the root', zoneEnd);
        edns = { udpSize: rrClass, version: (ttl >>> 16) & 0xff };
      } else if (type === Type.TSIG) {
        if (rrClass !== Class.ANY || ttl !== 0) return fail('TSIG record has a class other than ANY or a TTL', zoneEnd);
        const read = readTsig(msg, rrStart, owner.labels, pos, rdEnd);
        if (typeof read === 'string') return fail(read, zoneEnd);
        tsig = read;
      }
      // other additional records are ignored (RFC 2136 §3.7 leaves them to the implementation)
      pos = rdEnd;
      continue;
    }
    if (type === Type.TSIG || type === Type.OPT) return fail(`${type === Type.OPT ? 'OPT' : 'TSIG'} outside the additional section`, zoneEnd);
    const rdata = expandRdata(msg, type, pos, rdEnd);
    if (typeof rdata === 'string') return fail(rdata, zoneEnd);
    (i < prcount ? prerequisites : updates).push({ name: labelsKey(owner.labels), type, class: rrClass, ttl, rdata });
    pos = rdEnd;
  }
  if (pos !== msg.length) return fail('octets after the last record', zoneEnd, Rcode.FORMERR, tsig);
  return { update: { id, flags, zone: labelsKey(zone.labels), zoneClass, zoneType, zoneEnd, prerequisites, updates, ...(edns ? { edns } : {}), ...(tsig ? { tsig } : {}) } };
}
