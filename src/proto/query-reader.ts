// Reads what the server needs from an incoming message (header, question, OPT with ECS) with every count and
// length bounded by the message itself, so a hostile header claiming 65,535 records costs a few comparisons.
// Nothing here allocates per record: the answer bytes come from the index, this only finds the question.

import { Class, Opcode, Rcode, Type } from './constants.js';

export interface ClientSubnet {
  family: number;
  sourcePrefix: number;
  scopePrefix: number;
  /** The address octets as sent (ceil(sourcePrefix / 8) of them). */
  address: Buffer;
}

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  ecs?: ClientSubnet;
  /** The query asks for the server's NSID (RFC 5001 §2.1: an NSID option, empty in a query). */
  nsid?: boolean;
}

export interface Query {
  id: number;
  /** The header's second 16 bits as received (opcode, RD, CD...). */
  flags: number;
  /** Lower-case presentation key of the question name ("www.example.com."). */
  qname: string;
  /** Octets the question name takes on the wire. */
  qnameWireLength: number;
  qtype: number;
  qclass: number;
  /** Offset just past the question: bytes 12..questionEnd are echoed verbatim (RFC 1035 §4.1.2, case preserved). */
  questionEnd: number;
  edns?: Edns;
}

/** A message we answer with an error code rather than a lookup. `questionEnd` is 12 when the question is unusable. */
export interface QueryError {
  rcode: number;
  id: number;
  flags: number;
  questionEnd: number;
  edns?: Edns;
  reason: string;
}

/** Why a message gets no answer at all; the values are the `reason` label of edgedns_dns_dropped_total. */
export const DropReason = {
  /** Shorter than the 12-octet header: there is not even an ID to answer. */
  Short: 'short',
  /** QR set: a response, which must never be answered (that is how reflection loops start). */
  Response: 'response',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export type ReadResult = { query: Query } | { error: QueryError } | { drop: DropReason };

const OPT_NSID = 3;
const OPT_ECS = 8;

const HEX = '0123456789';

function escapeByte(b: number): string {
  return '\\' + HEX[Math.floor(b / 100)] + HEX[Math.floor(b / 10) % 10] + HEX[b % 10];
}

/**
 * Reads an uncompressed name starting at `offset` into its lower-case key.
 * Returns the end offset, or -1 when the name is malformed (pointer, bad label type, over 255 octets, truncated).
 */
function readQname(msg: Buffer, offset: number, out: { key: string }): number {
  let key = '';
  let pos = offset;
  for (;;) {
    if (pos >= msg.length) return -1;
    const len = msg[pos];
    if (len === 0) {
      pos += 1;
      break;
    }
    // a pointer in the question has nothing before it to point at; other label types are obsolete (RFC 6891 §5)
    if (len > 63) return -1;
    const start = pos + 1;
    const end = start + len;
    if (end > msg.length) return -1;
    if (end - offset > 254) return -1;
    // Most labels are letters, digits, "-" and "_": slice them whole; anything else goes octet by octet.
    let plain = true;
    let upper = false;
    for (let i = start; i < end; i++) {
      const b = msg[i];
      if (b >= 0x61 && b <= 0x7a) continue;
      if (b >= 0x41 && b <= 0x5a) upper = true;
      else if (!((b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f || b === 0x2a)) {
        plain = false;
        break;
      }
    }
    if (plain) {
      const label = msg.toString('latin1', start, end);
      key += (upper ? label.toLowerCase() : label) + '.';
    } else {
      key += escapedLabel(msg, start, end) + '.';
    }
    pos = end;
  }
  out.key = key.length === 0 ? '.' : key;
  return pos;
}

function escapedLabel(msg: Buffer, start: number, end: number): string {
  let label = '';
  for (let i = start; i < end; i++) {
    const b = msg[i];
    if (b >= 0x41 && b <= 0x5a) label += String.fromCharCode(b + 32);
    else if (b <= 0x20 || b >= 0x7f) label += escapeByte(b);
    else if (b === 0x2e || b === 0x5c || b === 0x22 || b === 0x28 || b === 0x29 || b === 0x3b || b === 0x40 || b === 0x24) label += '\\' + String.fromCharCode(b);
    else label += String.fromCharCode(b);
  }
  return label;
}

/** Skips a possibly compressed name; -1 when it runs off the message. */
function skipName(msg: Buffer, offset: number): number {
  let pos = offset;
  for (let guard = 0; guard < 128; guard++) {
    if (pos >= msg.length) return -1;
    const len = msg[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= msg.length ? pos + 2 : -1;
    if (len > 63) return -1;
    pos += 1 + len;
  }
  return -1;
}

function readEdns(msg: Buffer, ownerStart: number, pos: number, rdlength: number): Edns | string {
  if (msg[ownerStart] !== 0) return 'OPT owner is not the root';
  const udpSize = msg.readUInt16BE(pos - 8);
  const ttl = msg.readUInt32BE(pos - 6);
  const edns: Edns = { udpSize, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0 };
  const end = pos + rdlength;
  let p = pos;
  while (p < end) {
    if (p + 4 > end) return 'truncated EDNS option header';
    const code = msg.readUInt16BE(p);
    const len = msg.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return 'EDNS option overruns the OPT record';
    if (code === OPT_ECS) {
      if (edns.ecs) return 'two client-subnet options';
      if (len < 4) return 'short client-subnet option';
      const family = msg.readUInt16BE(p);
      const sourcePrefix = msg[p + 2];
      const scopePrefix = msg[p + 3];
      const octets = len - 4;
      // RFC 7871 §6: address length must be exactly what the source prefix needs; scope must be 0 in queries
      if (family !== 1 && family !== 2) return 'client-subnet family is neither IPv4 nor IPv6';
      if (sourcePrefix > (family === 1 ? 32 : 128)) return 'client-subnet source prefix too long';
      if (octets !== Math.ceil(sourcePrefix / 8)) return 'client-subnet address length does not match its prefix';
      if (scopePrefix !== 0) return 'client-subnet scope prefix is not 0 in a query';
      edns.ecs = { family, sourcePrefix, scopePrefix, address: Buffer.from(msg.subarray(p + 4, p + len)) };
    }
    if (code === OPT_NSID) edns.nsid = true;
    // RFC 6891 §6.1.2: unknown options are ignored
    p += len;
  }
  return edns;
}

export function readQuery(msg: Buffer): ReadResult {
  if (msg.length < 12) return { drop: DropReason.Short };
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return { drop: DropReason.Response };
  const qdcount = msg.readUInt16BE(4);
  const opcode = (flags >>> 11) & 0xf;
  const fail = (rcode: number, reason: string, questionEnd = 12, edns?: Edns): ReadResult => ({
    error: { rcode, id, flags, questionEnd, edns, reason },
  });
  if (qdcount !== 1) return fail(opcode === 0 ? Rcode.FORMERR : Rcode.NOTIMP, `question count ${qdcount}`);

  const name = { key: '' };
  const qnameEnd = readQname(msg, 12, name);
  if (qnameEnd < 0 || qnameEnd + 4 > msg.length) return fail(Rcode.FORMERR, 'malformed question');
  const qtype = msg.readUInt16BE(qnameEnd);
  const qclass = msg.readUInt16BE(qnameEnd + 2);
  const questionEnd = qnameEnd + 4;

  // Find OPT in the additional section; answer and authority records (none expected in a query) are skipped.
  const ancount = msg.readUInt16BE(6);
  const nscount = msg.readUInt16BE(8);
  const arcount = msg.readUInt16BE(10);
  let pos = questionEnd;
  let edns: Edns | undefined;
  const total = ancount + nscount + arcount;
  for (let i = 0; i < total; i++) {
    const ownerStart = pos;
    pos = skipName(msg, pos);
    if (pos < 0 || pos + 10 > msg.length) return fail(Rcode.FORMERR, 'record runs past the end of the message', questionEnd);
    const type = msg.readUInt16BE(pos);
    const rdlength = msg.readUInt16BE(pos + 8);
    pos += 10;
    if (pos + rdlength > msg.length) return fail(Rcode.FORMERR, 'rdata runs past the end of the message', questionEnd);
    if (type === Type.OPT) {
      if (i < ancount + nscount) return fail(Rcode.FORMERR, 'OPT outside the additional section', questionEnd);
      if (edns) return fail(Rcode.FORMERR, 'more than one OPT record', questionEnd); // RFC 6891 §6.1.1
      const read = readEdns(msg, ownerStart, pos, rdlength);
      if (typeof read === 'string') return fail(Rcode.FORMERR, read, questionEnd);
      edns = read;
    }
    pos += rdlength;
  }

  // NOTIFY and UPDATE are understood but not accepted: we are no zone's secondary and take no dynamic updates
  // (Knot answers NOTAUTH the same way); other opcodes are not implemented.
  if (opcode === Opcode.NOTIFY || opcode === Opcode.UPDATE) return fail(Rcode.NOTAUTH, `opcode ${opcode}`, questionEnd, edns);
  if (opcode !== Opcode.QUERY) return fail(Rcode.NOTIMP, `opcode ${opcode}`, questionEnd, edns);
  if (qclass === Class.NONE) return fail(Rcode.FORMERR, 'class NONE in a query', questionEnd, edns);
  return {
    query: { id, flags, qname: name.key, qnameWireLength: qnameEnd - 12, qtype, qclass, questionEnd, edns },
  };
}
