// The largest RRset a zone may hold: one that fits a DNS message. An answer carries the whole RRset or, past 512
// octets or the client's EDNS size, is truncated and asked again over TCP, whose messages are at most 65,535 octets
// (RFC 1035 §4.2.2). An RRset bigger than that can never be answered by anyone (issue 12: a 10,000-record RRset was
// accepted), so it is refused when written. Checked at write time only: a zone already stored keeps being served.
//
// The size counted is the worst case of our encoder (src/dns/answer-encoder.ts), which compresses an owner name only
// when it is the question or a suffix of it: reached through a CNAME, every record carries its owner in full.

import { nameToWire, parseName } from '../proto/names.js';
import { parseRdataText, type ParsedRdata } from '../proto/rdata.js';
import type { RRset } from './model.js';

/** A DNS message over TCP: its length field is 16 bits. */
export const MAX_MESSAGE_OCTETS = 65_535;

/**
 * Kept for the rest of the message: header (12), the longest question (255 + 4), an OPT record with an ECS option
 * (11 + 4 + 4 + 16) and a CNAME on the way (255 + 10 + 255 octets), rounded up.
 */
const RESERVED_OCTETS = 1024;

/** The most octets an RRset's records may take in an answer: 64,511. */
export const MAX_RRSET_OCTETS = MAX_MESSAGE_OCTETS - RESERVED_OCTETS;

/** Octets of every record of the RRset in an answer, owner uncompressed: owner + type, class, TTL, RDLENGTH + RDATA. */
export function rrsetOctets(owner: string, rdataLengths: readonly number[]): number {
  const ownerOctets = nameToWire(parseName(owner)).length;
  let total = 0;
  for (const length of rdataLengths) total += ownerOctets + 10 + length;
  return total;
}

/** Why `rrset` is too large to answer, or undefined when it fits; `parsed` are its records when already parsed. */
export function rrsetSizeProblem(rrset: RRset, parsed?: readonly ParsedRdata[]): string | undefined {
  if (rrset.pool !== undefined) return undefined; // a pool's answer is a few chosen addresses
  const records = parsed ?? rrset.records.map((text) => parseRdataText(rrset.type, text, '.'));
  const octets = rrsetOctets(rrset.name, records.map((r) => r.wire.length));
  if (octets <= MAX_RRSET_OCTETS) return undefined;
  return `${rrset.records.length} records take ${octets} octets in an answer, over the limit of ${MAX_RRSET_OCTETS} (a DNS message over TCP carries at most ${MAX_MESSAGE_OCTETS})`;
}
