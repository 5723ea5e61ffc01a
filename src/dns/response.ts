// Assembles a response: header, the question copied byte for byte from the query, the encoded sections, and an
// OPT record when the query had one (RFC 6891 §7). Applies the client's size limit (RFC 1035 §4.2.1, RFC 6891
// §6.2.5) by dropping the additional section, then by setting TC with empty sections.

import { EDNS_UDP_PAYLOAD, Type } from '../proto/constants.js';
import type { EncodedSections } from './answer-encoder.js';
import type { Edns } from '../proto/query-reader.js';

export interface ResponseInput {
  message: Buffer;
  id: number;
  flags: number;
  /** Offset past the question in `message`; 12 means no question is echoed. */
  questionEnd: number;
  edns?: Edns;
  /** Largest response the transport allows (UDP: from EDNS or 512; TCP: 65535). */
  limit: number;
  /** SCOPE PREFIX-LENGTH of the client-subnet option echoed when the query had one (RFC 7871 §7.2.1); 0 if unset. */
  ecsScope?: number;
  /** This server's NSID (RFC 5001), sent only when the query's OPT asked for it. */
  nsid?: Buffer;
}

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const OPCODE = 0x7800;
/**
 * RD and CD are echoed from the query (RFC 1035 §4.1.1, RFC 4035 §3.1.6), but only for QUERY, the one opcode that
 * defines them: a NOTIMP or NOTAUTH for another opcode says nothing about recursion or checking (genreport's
 * "opcodeflg" probe; BIND clears them too). The opcode itself is always echoed.
 */
const QUERY_ECHOED = OPCODE | 0x0100 | 0x0010;
const OPT_SIZE = 11;
const OPT_ECS = 8;
const OPT_NSID = 3;

/** The NSID sent in reply to `edns`: only when it asked (RFC 5001 §2.1) and this server has one. */
function nsidFor(edns: Edns, nsid: Buffer | undefined): Buffer | undefined {
  return edns.nsid === true ? nsid : undefined;
}

/** Octets of the OPT record: fixed part plus the echoed client-subnet option and our NSID, when they are sent. */
function optSize(edns: Edns, nsid: Buffer | undefined): number {
  return OPT_SIZE + (edns.ecs ? 8 + edns.ecs.address.length : 0) + (nsid ? 4 + nsid.length : 0);
}

function writeOpt(buf: Buffer, off: number, extendedRcode: number, edns: Edns, ecsScope: number, nsid: Buffer | undefined): number {
  buf[off] = 0;
  buf.writeUInt16BE(Type.OPT, off + 1);
  buf.writeUInt16BE(EDNS_UDP_PAYLOAD, off + 3);
  buf[off + 5] = extendedRcode;
  buf[off + 6] = 0; // version 0, the only one we speak
  buf.writeUInt16BE(edns.dnssecOk ? 0x8000 : 0, off + 7); // DO echoed (RFC 3225 §3)
  const ecs = edns.ecs;
  buf.writeUInt16BE(optSize(edns, nsid) - OPT_SIZE, off + 9);
  let p = off + OPT_SIZE;
  if (nsid) {
    buf.writeUInt16BE(OPT_NSID, p);
    buf.writeUInt16BE(nsid.length, p + 2);
    p += 4;
    p += nsid.copy(buf, p);
  }
  if (!ecs) return p;
  // RFC 7871 §7.2.1: family, source prefix and address as the query sent them, with our scope
  buf.writeUInt16BE(OPT_ECS, p);
  buf.writeUInt16BE(4 + ecs.address.length, p + 2);
  buf.writeUInt16BE(ecs.family, p + 4);
  buf[p + 6] = ecs.sourcePrefix;
  buf[p + 7] = Math.min(ecsScope, ecs.family === 1 ? 32 : 128);
  p += 8;
  p += ecs.address.copy(buf, p);
  return p;
}

/**
 * `truncate`: send only the header, question and OPT with TC set, whatever would fit: the reply rate limiting
 * "slips" out instead of dropping, so a real client retries over TCP (BIND's and Knot's RRL slip).
 */
export function buildResponse(input: ResponseInput, rcode: number, sections?: EncodedSections, truncate = false): Buffer {
  const { message, edns } = input;
  const questionLength = input.questionEnd - 12;
  const nsid = edns ? nsidFor(edns, input.nsid) : undefined;
  const fixed = 12 + questionLength + (edns ? optSize(edns, nsid) : 0);

  let body = sections?.bytes.length ?? 0;
  let answerCount = sections?.answerCount ?? 0;
  let authorityCount = sections?.authorityCount ?? 0;
  let additionalCount = sections?.additionalCount ?? 0;
  let truncated = false;
  if (sections && truncate) {
    body = 0;
    answerCount = authorityCount = additionalCount = 0;
    truncated = true;
  } else if (sections && fixed + body > input.limit) {
    if (!sections.glueRequired && fixed + sections.withoutAdditional <= input.limit) {
      body = sections.withoutAdditional;
      additionalCount = 0;
    } else {
      body = 0;
      answerCount = authorityCount = additionalCount = 0;
      truncated = true;
    }
  }

  const out = Buffer.allocUnsafe(fixed + body);
  out.writeUInt16BE(input.id, 0);
  let flags = FLAG_QR | (input.flags & ((input.flags & OPCODE) === 0 ? QUERY_ECHOED : OPCODE)) | (rcode & 0xf);
  if (sections?.authoritative) flags |= FLAG_AA;
  if (truncated || truncate) flags |= FLAG_TC;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(questionLength > 0 ? 1 : 0, 4);
  out.writeUInt16BE(answerCount, 6);
  out.writeUInt16BE(authorityCount, 8);
  out.writeUInt16BE(additionalCount + (edns ? 1 : 0), 10);
  message.copy(out, 12, 12, input.questionEnd);
  let off = 12 + questionLength;
  if (sections && body > 0) off += sections.bytes.copy(out, off, 0, body);
  if (edns) writeOpt(out, off, rcode >>> 4, edns, input.ecsScope ?? 0, nsid);
  return out;
}
