// Record types that fit no family: LOC (RFC 1876), APL (RFC 3123), NAPTR (RFC 3403), URI (RFC 7553) and the
// EUI48/EUI64 hardware addresses (RFC 7043).

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './rdata-ip.js';
import { hexText, type RdataCodec } from './rdata-codec.js';
import { quoteText, RdataError, type TokenReader, type WireReader } from './rdata-fields.js';
import { decodeLoc, encodeLoc } from './rdata-loc.js';

/** APL address families (RFC 3123 §4, IANA address family numbers) with their address size. */
const APL_FAMILIES = new Map([
  [1, { bytes: 4, parse: parseIPv4, format: formatIPv4, name: 'IPv4' }],
  [2, { bytes: 16, parse: parseIPv6, format: formatIPv6, name: 'IPv6' }],
]);

/** One APL item, "[!]family:address/prefix", to its wire form, trailing zero octets of the address left out. */
function aplItem(r: TokenReader): Buffer {
  const text = r.word('item');
  const m = /^(!?)(\d):([^/]+)\/(\d{1,3})$/.exec(text);
  const family = m ? APL_FAMILIES.get(Number(m[2])) : undefined;
  if (!m || !family) r.fail(`item "${text}" is not [!]1:IPv4/prefix or [!]2:IPv6/prefix`);
  const address = family.parse(m[3]);
  if (address === undefined) r.fail(`item "${text}" has an address that is not ${family.name}`);
  const prefix = Number(m[4]);
  if (prefix > family.bytes * 8) r.fail(`item "${text}" has prefix ${prefix}, over ${family.bytes * 8}`);
  let length = address.length;
  while (length > 0 && address[length - 1] === 0) length--;
  const head = Buffer.from([0, Number(m[2]), prefix, (m[1] === '!' ? 0x80 : 0) | length]);
  return Buffer.concat([head, address.subarray(0, length)]);
}

function aplItemText(w: WireReader): string {
  const familyCode = w.u16();
  const prefix = w.u8();
  const flags = w.u8();
  const length = flags & 0x7f;
  const family = APL_FAMILIES.get(familyCode);
  if (!family) throw new RdataError(`${w.type} address family ${familyCode} is not 1 (IPv4) or 2 (IPv6)`);
  if (prefix > family.bytes * 8) throw new RdataError(`${w.type} prefix ${prefix} is over ${family.bytes * 8}`);
  if (length > family.bytes) throw new RdataError(`${w.type} address part of ${length} octets is longer than an ${family.name} address`);
  const part = w.bytes(length);
  if (length > 0 && part[length - 1] === 0) throw new RdataError(`${w.type} address part ends in a zero octet (RFC 3123 §4 leaves them out)`);
  const address = Buffer.alloc(family.bytes);
  part.copy(address);
  return `${flags & 0x80 ? '!' : ''}${familyCode}:${family.format(address)}/${prefix}`;
}

/** EUI48 or EUI64 (RFC 7043 §3.2, §4.2): hex pairs joined by "-", printed in upper case like knot. */
function eui(octets: 6 | 8): RdataCodec {
  const pattern = new RegExp(`^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){${octets - 1}}$`);
  return {
    encode(r) {
      const text = r.word('address');
      if (!pattern.test(text)) r.fail(`address "${text}" is not ${octets} hex pairs joined by "-" (xx-xx-...)`);
      return [Buffer.from(text.replace(/-/g, ''), 'hex')];
    },
    decode: (w) => [hexText(w.bytes(octets)).replace(/(..)(?!$)/g, '$1-')],
  };
}

export const MISC_CODECS: [number, RdataCodec][] = [
  [29, { encode: encodeLoc, decode: decodeLoc }], // LOC
  [
    42, // APL: a possibly empty list of prefixes
    {
      encode(r) {
        const items: Buffer[] = [];
        while (r.remaining > 0) items.push(aplItem(r));
        return items;
      },
      decode(w) {
        const items: string[] = [];
        while (w.remaining > 0) items.push(aplItemText(w));
        return items;
      },
    },
  ],
  [
    35, // NAPTR, RFC 3403 §4.1
    {
      encode(r) {
        const fields = [r.number('order', 2), r.number('preference', 2), r.characterString('flags'), r.characterString('services')];
        const regexp = r.characterString('regexp');
        const replacement = r.name('replacement');
        if (regexp.length > 1 && replacement.length > 1) r.fail('has both a regexp and a replacement; RFC 3403 §4.1 allows one of them ("" or ".")');
        return [...fields, regexp, replacement];
      },
      decode(w) {
        const fields = [String(w.u16()), String(w.u16()), w.characterString(), w.characterString(), w.characterString(), w.name()];
        if (fields[4] !== '""' && fields[5] !== '.') throw new RdataError(`${w.type} has both a regexp and a replacement (RFC 3403 §4.1)`);
        return fields;
      },
      names: [5],
    },
  ],
  [
    256, // URI, RFC 7553 §4.5: the target is the rest of the rdata, one string, always printed quoted
    {
      encode: (r) => [r.number('priority', 2), r.number('weight', 2), r.text('target')],
      decode: (w) => [String(w.u16()), String(w.u16()), quoteText(w.rest())],
    },
  ],
  [108, eui(6)], // EUI48
  [109, eui(8)], // EUI64
];
