// The types that carry a type bitmap: NSEC (RFC 4034 §4), NSEC3 and NSEC3PARAM (RFC 5155), CSYNC (RFC 7477).

import { decodeTypeBitmap, readTypeBitmap } from './rdata-bitmap.js';
import { hexText, u8, type RdataCodec } from './rdata-codec.js';
import { RdataError, type TokenReader, type WireReader } from './rdata-fields.js';

/** The types present at a name; an NSEC's own name has at least NSEC, so the list is never empty. */
function nsecTypes(r: TokenReader): Buffer {
  if (r.remaining === 0) r.fail('type bitmap is missing (the NSEC owner has at least NSEC itself, RFC 4034 §4.1.2)');
  return readTypeBitmap(r, 'type bitmap');
}

/** NSEC3 salt (RFC 5155 §3.3): hex, or "-" for none, with its length octet. */
function readSalt(r: TokenReader): Buffer {
  const text = r.word('salt');
  if (text === '-') return u8(0);
  if (!/^([0-9a-fA-F]{2}){1,255}$/.test(text)) r.fail(`salt "${text}" is not "-" or 1-255 octets of hex`);
  return Buffer.concat([u8(text.length / 2), Buffer.from(text, 'hex')]);
}

function saltText(w: WireReader): string {
  const salt = w.bytes(w.u8());
  return salt.length === 0 ? '-' : hexText(salt);
}

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv'; // RFC 4648 §7

/** Base32hex without padding (RFC 5155 §3.3), the form of a hashed owner name; undefined when malformed. */
function parseBase32hex(text: string): Buffer | undefined {
  const lower = text.toLowerCase();
  if (!/^[0-9a-v]+$/.test(lower) || [1, 3, 6].includes(lower.length % 8)) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of lower) {
    value = (value << 5) | BASE32HEX.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 0xff);
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) return undefined; // bits beyond the last octet must be zero
  return Buffer.from(out);
}

function base32hexText(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32HEX[(value >> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32HEX[(value << (5 - bits)) & 31];
  return out;
}

export const NSEC_CODECS: [number, RdataCodec][] = [
  [
    47, // NSEC, RFC 4034 §4.2: next owner name (never compressed, case kept, RFC 6840 §5.1) and type bitmap
    {
      encode: (r) => [r.name('next domain name'), nsecTypes(r)],
      decode(w) {
        const next = w.name();
        if (w.remaining === 0) throw new RdataError(`${w.type} type bitmap is missing`);
        return [next, ...decodeTypeBitmap(w)];
      },
    },
  ],
  [
    50, // NSEC3, RFC 5155 §3.3: hash algorithm, flags, iterations, salt, next hashed owner, types (possibly none)
    {
      encode(r) {
        const head = [r.number('hash algorithm', 1), r.number('flags', 1), r.number('iterations', 2), readSalt(r)];
        const hashText = r.word('next hashed owner name');
        const hash = parseBase32hex(hashText);
        if (hash === undefined || hash.length > 255) return r.fail(`next hashed owner name "${hashText}" is not base32hex (0-9, a-v)`);
        return [...head, u8(hash.length), hash, readTypeBitmap(r, 'type bitmap')];
      },
      decode(w) {
        const head = [String(w.u8()), String(w.u8()), String(w.u16()), saltText(w)];
        const hash = w.bytes(w.u8());
        if (hash.length === 0) throw new RdataError(`${w.type} next hashed owner name is empty`);
        return [...head, base32hexText(hash), ...decodeTypeBitmap(w)];
      },
    },
  ],
  [
    51, // NSEC3PARAM, RFC 5155 §4.3
    {
      encode: (r) => [r.number('hash algorithm', 1), r.number('flags', 1), r.number('iterations', 2), readSalt(r)],
      decode: (w) => [String(w.u8()), String(w.u8()), String(w.u16()), saltText(w)],
    },
  ],
  [
    62, // CSYNC, RFC 7477 §2.1: SOA serial, flags, the types to synchronise (possibly none)
    {
      encode: (r) => [r.number('SOA serial', 4), r.number('flags', 2), readTypeBitmap(r, 'type bitmap')],
      decode: (w) => [String(w.u32()), String(w.u16()), ...decodeTypeBitmap(w)],
    },
  ],
];
