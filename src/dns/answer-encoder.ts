// Turns a lookup result into the octets of the answer, authority and additional sections. Owner names that are
// the question name or one of its suffixes become 2-octet pointers into the question (RFC 1035 §4.1.4); the
// question is echoed first in every response, so those offsets are fixed for a given question length.

import type { LookupResult, SectionEntry } from '../zone/lookup.js';
import { isInZone, nameToWire, parseName } from '../proto/names.js';
import { ResponseClass, type ResponseClassCode } from './response-class.js';

export interface EncodedSections {
  rcode: number;
  authoritative: boolean;
  bytes: Buffer;
  answerCount: number;
  authorityCount: number;
  additionalCount: number;
  /** Length of `bytes` without the additional section, for truncation (RFC 2181 §9). */
  withoutAdditional: number;
  /** A referral whose glue must fit, else the response is truncated (RFC 9471). */
  glueRequired: boolean;
  /** The kind of response, for rate limiting. */
  responseClass: ResponseClassCode;
}

function responseClass(result: LookupResult): ResponseClassCode {
  switch (result.kind) {
    case 'nxdomain':
      return ResponseClass.NXDOMAIN;
    case 'nodata':
      return ResponseClass.NODATA;
    case 'referral':
      return ResponseClass.REFERRAL;
    default:
      return result.synthesized ? ResponseClass.WILDCARD : ResponseClass.ANSWER;
  }
}

const QUESTION_OFFSET = 12;

function ownerWire(entry: SectionEntry): Buffer {
  return entry.ownerNode ? entry.ownerNode.wire : nameToWire(parseName(entry.owner));
}

export function encodeSections(result: LookupResult, qname: string, qnameWireLength: number): EncodedSections {
  const sections = [result.answer, result.authority, result.additional];
  // Size first, so the bytes are written into one exact allocation.
  const owners: (number | Buffer)[][] = [];
  let size = 0;
  let withoutAdditional = 0;
  sections.forEach((entries, s) => {
    const list: (number | Buffer)[] = [];
    for (const entry of entries) {
      let owner: number | Buffer;
      if (entry.owner === qname) owner = QUESTION_OFFSET;
      else if (isInZone(qname, entry.owner)) owner = QUESTION_OFFSET + qnameWireLength - ownerWire(entry).length;
      else owner = ownerWire(entry);
      list.push(owner);
      const ownerSize = typeof owner === 'number' ? 2 : owner.length;
      size += ownerSize * entry.rrset.records.length + entry.rrset.tailBytes;
    }
    owners.push(list);
    if (s === 1) withoutAdditional = size;
  });

  const bytes = Buffer.allocUnsafe(size);
  let off = 0;
  const counts = [0, 0, 0];
  sections.forEach((entries, s) => {
    entries.forEach((entry, i) => {
      const owner = owners[s][i];
      for (const record of entry.rrset.records) {
        if (typeof owner === 'number') {
          bytes[off++] = 0xc0 | (owner >>> 8);
          bytes[off++] = owner & 0xff;
        } else off += owner.copy(bytes, off);
        off += record.tail.copy(bytes, off);
        counts[s]++;
      }
    });
  });

  return {
    rcode: result.rcode,
    authoritative: result.authoritative,
    bytes,
    answerCount: counts[0],
    authorityCount: counts[1],
    additionalCount: counts[2],
    withoutAdditional,
    glueRequired: result.kind === 'referral' && result.additional.length > 0,
    responseClass: responseClass(result),
  };
}
