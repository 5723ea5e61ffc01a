// What a record type's codec provides, and the small helpers the codec families share.

import { RdataError, type TokenReader, type WireReader } from './rdata-fields.js';

export interface RdataCodec {
  /** Presentation tokens to wire octets, field by field. */
  encode(r: TokenReader): Buffer[];
  /** Wire octets to canonical presentation fields; throws RdataError on malformed rdata. */
  decode(w: WireReader): string[];
  /** Index of the decoded field holding the name additional-section processing or CNAME chasing follows. */
  target?: number;
  /**
   * Names in the rdata compare case-insensitively (RFC 4034 §6.2, the types knot lower-cases): `true` when every
   * field is a name or a number, else the indexes of the name fields.
   */
  names?: true | readonly number[];
}

/** Hex as knot prints it: upper case, one run. */
export function hexText(bytes: Buffer): string {
  return bytes.toString('hex').toUpperCase();
}

/** The rest of the rdata as hex; it must not be empty. */
export function nonEmptyHex(w: WireReader, field: string): string {
  const bytes = w.rest();
  if (bytes.length === 0) throw new RdataError(`${w.type} ${field} is missing`);
  return hexText(bytes);
}

/** The rest of the rdata as base64; it must not be empty. */
export function nonEmptyBase64(w: WireReader, field: string): string {
  const bytes = w.rest();
  if (bytes.length === 0) throw new RdataError(`${w.type} ${field} is missing`);
  return bytes.toString('base64');
}

export function u8(n: number): Buffer {
  return Buffer.from([n]);
}

export function u16(n: number): Buffer {
  const buf = Buffer.alloc(2);
  buf.writeUInt16BE(n);
  return buf;
}
