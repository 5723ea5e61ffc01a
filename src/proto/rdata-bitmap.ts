// The type bitmap of NSEC (RFC 4034 §4.1.2), shared by NSEC3 and CSYNC (RFC 7477 §2.1.1): windows of 256 types,
// each written as its number, a length of 1-32 octets and the bits, trailing zero octets left out.

import { typeCode, typeName } from './constants.js';
import { RdataError, type TokenReader, type WireReader } from './rdata-fields.js';

/** Pseudo-types (OPT, and the meta and query types 128-255) never appear in zone data: their bits stay clear. */
function pseudoType(code: number): boolean {
  return code === 41 || (code >= 128 && code <= 255);
}

/** The remaining tokens as type mnemonics or TYPEnnn, in any order, repeats ignored, to a bitmap. */
export function readTypeBitmap(r: TokenReader, field: string): Buffer {
  const codes = new Set<number>();
  while (r.remaining > 0) {
    const text = r.word(field);
    const code = typeCode(text);
    if (code === undefined) r.fail(`${field}: "${text}" is not a record type (write unlisted types as TYPEnnn)`);
    if (pseudoType(code)) r.fail(`${field}: ${typeName(code)} is a pseudo-type and cannot be listed (RFC 4034 §4.1.2)`);
    codes.add(code);
  }
  return encodeTypeBitmap([...codes]);
}

export function encodeTypeBitmap(codes: number[]): Buffer {
  const windows = new Map<number, Buffer>();
  for (const code of codes) {
    const window = code >> 8;
    const bits = windows.get(window) ?? Buffer.alloc(32);
    bits[(code & 0xff) >> 3] |= 0x80 >> (code & 7);
    windows.set(window, bits);
  }
  const parts: Buffer[] = [];
  for (const window of [...windows.keys()].sort((a, b) => a - b)) {
    const bits = windows.get(window) as Buffer;
    let length = 32;
    while (bits[length - 1] === 0) length--;
    parts.push(Buffer.from([window, length]), bits.subarray(0, length));
  }
  return Buffer.concat(parts);
}

/** The rest of the rdata as a bitmap, checked as RFC 4034 §4.1.2 says it is built; the types in ascending order. */
export function decodeTypeBitmap(w: WireReader): string[] {
  const names: string[] = [];
  let previous = -1;
  while (w.remaining > 0) {
    const window = w.u8();
    const length = w.u8();
    if (window <= previous) throw new RdataError(`${w.type} type bitmap windows are not in ascending order`);
    if (length < 1 || length > 32) throw new RdataError(`${w.type} type bitmap window ${window} has length ${length}, not 1-32`);
    const bits = w.bytes(length);
    if (bits[length - 1] === 0) throw new RdataError(`${w.type} type bitmap window ${window} ends in a zero octet`);
    for (let i = 0; i < length * 8; i++) {
      if ((bits[i >> 3] & (0x80 >> (i & 7))) === 0) continue;
      const code = (window << 8) | i;
      if (pseudoType(code)) throw new RdataError(`${w.type} type bitmap lists the pseudo-type ${typeName(code)}`);
      names.push(typeName(code));
    }
    previous = window;
  }
  return names;
}
