// TSIG (RFC 8945): the MAC of a request checked, and a response signed, with HMAC-SHA1/224/256/384/512. Wire work
// only; which key a name stands for is the caller's business. HMAC-MD5 is not offered (RFC 8945 §6: "MUST NOT"
// be required, and its use is deprecated); a request naming it gets BADKEY.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { Class } from './constants.js';
import { nameToWire } from './names.js';
import type { TsigRecordAt } from './update-reader.js';

/** TSIG error codes (RFC 8945 §3). */
export const TsigError = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
export type TsigErrorCode = (typeof TsigError)[keyof typeof TsigError];

/** Algorithm name key → Node's hash name and the full MAC length. */
export const TSIG_ALGORITHMS: ReadonlyMap<string, { hash: string; size: number }> = new Map([
  ['hmac-sha1.', { hash: 'sha1', size: 20 }],
  ['hmac-sha224.', { hash: 'sha224', size: 28 }],
  ['hmac-sha256.', { hash: 'sha256', size: 32 }],
  ['hmac-sha384.', { hash: 'sha384', size: 48 }],
  ['hmac-sha512.', { hash: 'sha512', size: 64 }],
]);

/** What both MACs end with (RFC 8945 §4.3.3): the TSIG RR's fields that are signed, names in canonical form. */
function variables(t: { keyLabels: string[]; algorithmLabels: string[]; timeSigned: number; fudge: number; error: number; other: Buffer }): Buffer {
  const lower = (labels: string[]): Buffer => nameToWire(labels.map((l) => l.replace(/[A-Z]+/g, (m) => m.toLowerCase())));
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(Class.ANY, 0);
  fixed.writeUInt32BE(0, 2); // TTL
  const times = Buffer.alloc(12);
  writeTime(times, 0, t.timeSigned);
  times.writeUInt16BE(t.fudge, 6);
  times.writeUInt16BE(t.error, 8);
  times.writeUInt16BE(t.other.length, 10);
  return Buffer.concat([lower(t.keyLabels), fixed, lower(t.algorithmLabels), times, t.other]);
}

function writeTime(buf: Buffer, offset: number, seconds: number): void {
  buf.writeUInt16BE(Math.floor(seconds / 2 ** 32) & 0xffff, offset);
  buf.writeUInt32BE(seconds % 2 ** 32, offset + 2);
}

function hmac(algorithm: string, secret: Buffer, parts: Buffer[]): Buffer {
  const alg = TSIG_ALGORITHMS.get(algorithm);
  if (!alg) throw new Error(`unsupported TSIG algorithm ${algorithm}`);
  const h = createHmac(alg.hash, secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * Checks a request's TSIG with `secret` (RFC 8945 §5.2.2, §5.2.3): its MAC first (BADSIG, or BADTRUNC for a
 * truncated one), then its time (BADTIME when `now` is outside time signed ± fudge). `msg` is the whole message.
 */
export function verifyRequest(msg: Buffer, tsig: TsigRecordAt, secret: Buffer, now: number): TsigErrorCode {
  const alg = TSIG_ALGORITHMS.get(tsig.algorithm);
  if (!alg) return TsigError.BADKEY;
  // The MAC covers the message as it was before the TSIG was added: its original ID, one record fewer.
  const head = Buffer.from(msg.subarray(0, tsig.start));
  head.writeUInt16BE(tsig.originalId, 0);
  head.writeUInt16BE(head.readUInt16BE(10) - 1, 10);
  const expected = hmac(tsig.algorithm, secret, [head, variables(tsig)]);
  // RFC 8945 §5.2.2.1: a MAC shorter than the hash is a truncation, which this server does not accept
  if (tsig.mac.length !== expected.length) return tsig.mac.length < expected.length ? TsigError.BADTRUNC : TsigError.BADSIG;
  if (!timingSafeEqual(tsig.mac, expected)) return TsigError.BADSIG;
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) return TsigError.BADTIME;
  return TsigError.NOERROR;
}

/** Appends a TSIG record to `response` (which must not have one) and counts it in ARCOUNT. */
function appendTsig(response: Buffer, t: { keyLabels: string[]; algorithmLabels: string[]; timeSigned: number; fudge: number; mac: Buffer; originalId: number; error: number; other: Buffer }): Buffer {
  const algorithm = nameToWire(t.algorithmLabels);
  const rdata = Buffer.alloc(algorithm.length + 16 + t.mac.length + t.other.length);
  let pos = algorithm.copy(rdata, 0);
  writeTime(rdata, pos, t.timeSigned);
  rdata.writeUInt16BE(t.fudge, pos + 6);
  rdata.writeUInt16BE(t.mac.length, pos + 8);
  pos += 10;
  pos += t.mac.copy(rdata, pos);
  rdata.writeUInt16BE(t.originalId, pos);
  rdata.writeUInt16BE(t.error, pos + 2);
  rdata.writeUInt16BE(t.other.length, pos + 4);
  t.other.copy(rdata, pos + 6);
  const header = Buffer.alloc(10);
  header.writeUInt16BE(250, 0); // TSIG
  header.writeUInt16BE(Class.ANY, 2);
  header.writeUInt32BE(0, 4);
  header.writeUInt16BE(rdata.length, 8);
  const out = Buffer.concat([response, nameToWire(t.keyLabels), header, rdata]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

export interface ResponseSigning {
  /** The request's TSIG: key and algorithm names as it sent them, its MAC, its original ID and time. */
  request: TsigRecordAt;
  error: TsigErrorCode;
  /** Seconds since the epoch. */
  now: number;
}

/**
 * Signs a response to a TSIG request (RFC 8945 §4.3.1, §5.3): the MAC covers the request's MAC, the response and
 * the TSIG variables. A BADTIME response carries the request's time and the server's in Other Data (§5.2.3).
 */
export function signResponse(response: Buffer, secret: Buffer, signing: ResponseSigning): Buffer {
  const { request, error, now } = signing;
  const badTime = error === TsigError.BADTIME;
  const other = Buffer.alloc(badTime ? 6 : 0);
  if (badTime) writeTime(other, 0, now);
  const fields = { keyLabels: request.keyLabels, algorithmLabels: request.algorithmLabels, timeSigned: badTime ? request.timeSigned : now, fudge: request.fudge, error, other };
  const requestMacLength = Buffer.alloc(2);
  requestMacLength.writeUInt16BE(request.mac.length, 0);
  const mac = hmac(request.algorithm, secret, [requestMacLength, request.mac, response, variables(fields)]);
  return appendTsig(response, { ...fields, mac, originalId: request.originalId });
}

/** An unsigned TSIG record on an error response (BADKEY, BADSIG, BADTRUNC: RFC 8945 §5.2): MAC size 0. */
export function unsignedTsig(response: Buffer, request: TsigRecordAt, error: TsigErrorCode): Buffer {
  return appendTsig(response, { keyLabels: request.keyLabels, algorithmLabels: request.algorithmLabels, timeSigned: request.timeSigned, fudge: request.fudge, mac: Buffer.alloc(0), originalId: request.originalId, error, other: Buffer.alloc(0) });
}
