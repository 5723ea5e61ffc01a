// Presentation and wire forms of the record types edgedns understands field by field. Every other type is
// carried in the RFC 3597 generic form.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './rdata-ip.js';
import { RdataError, quoteText, type TokenReader, type WireReader } from './rdata-fields.js';

export interface RdataCodec {
  /** Presentation tokens to wire octets, field by field. */
  encode(r: TokenReader): Buffer[];
  /** Wire octets to canonical presentation fields; throws RdataError on malformed rdata. */
  decode(w: WireReader): string[];
  /** Index of the decoded field holding the name additional-section processing or CNAME chasing follows. */
  target?: number;
  /** The rdata holds domain names, compared case-insensitively (RFC 4034 §6.2). */
  names?: true;
}

const singleName: RdataCodec = {
  encode: (r) => [r.name('name')],
  decode: (w) => [w.name()],
  target: 0,
  names: true,
};

/** Hex as knot prints it: upper case, one run. */
function hexText(bytes: Buffer): string {
  return bytes.toString('hex').toUpperCase();
}

const CAA_TAG = /^[A-Za-z0-9]+$/; // RFC 8659 §4.1: letters and digits only, at least one

export const CODECS = new Map<number, RdataCodec>([
  [
    1, // A, RFC 1035 §3.4.1
    {
      encode: (r) => [r.parsed('address', parseIPv4, 'is not IPv4 (a.b.c.d, no leading zeros)')],
      decode: (w) => [formatIPv4(w.bytes(4))],
    },
  ],
  [2, { ...singleName, encode: (r) => [r.name('nsdname')] }], // NS
  [5, { ...singleName, encode: (r) => [r.name('target')] }], // CNAME
  [12, { ...singleName, encode: (r) => [r.name('ptrdname')] }], // PTR
  [
    6, // SOA, RFC 1035 §3.3.13; timers take TTL units as in BIND and knot
    {
      encode: (r) => [
        r.name('mname'),
        r.name('rname'),
        r.number('serial', 4),
        r.seconds('refresh'),
        r.seconds('retry'),
        r.seconds('expire'),
        r.seconds('minimum'),
      ],
      decode: (w) => [w.name(), w.name(), ...[1, 2, 3, 4, 5].map(() => String(w.u32()))],
      names: true,
    },
  ],
  [
    13, // HINFO, RFC 1035 §3.3.2
    {
      encode: (r) => [r.characterString('cpu'), r.characterString('os')],
      decode: (w) => [w.characterString(), w.characterString()],
    },
  ],
  [
    15, // MX, RFC 1035 §3.3.9
    {
      encode: (r) => [r.number('preference', 2), r.name('exchange')],
      decode: (w) => [String(w.u16()), w.name()],
      target: 1,
      names: true,
    },
  ],
  [
    16, // TXT, RFC 1035 §3.3.14: one or more character-strings
    {
      encode(r) {
        const strings = [r.characterString('string')];
        for (let i = 2; r.remaining > 0; i++) strings.push(r.characterString(`string ${i}`));
        return strings;
      },
      decode(w) {
        const strings = [w.characterString()];
        while (w.remaining > 0) strings.push(w.characterString());
        return strings;
      },
    },
  ],
  [
    28, // AAAA, RFC 3596
    {
      encode: (r) => [r.parsed('address', parseIPv6, 'is not IPv6')],
      decode: (w) => [formatIPv6(w.bytes(16))],
    },
  ],
  [
    33, // SRV, RFC 2782
    {
      encode: (r) => [r.number('priority', 2), r.number('weight', 2), r.number('port', 2), r.name('target')],
      decode: (w) => [String(w.u16()), String(w.u16()), String(w.u16()), w.name()],
      target: 3,
      names: true,
    },
  ],
  [
    43, // DS, RFC 4034 §5.3 (numeric algorithm and digest type)
    {
      encode: (r) => [r.number('key tag', 2), r.number('algorithm', 1), r.number('digest type', 1), r.hex('digest')],
      decode: (w) => [String(w.u16()), String(w.u8()), String(w.u8()), nonEmptyHex(w, 'digest')],
    },
  ],
  [
    44, // SSHFP, RFC 4255 §3.2
    {
      encode: (r) => [r.number('algorithm', 1), r.number('fingerprint type', 1), r.hex('fingerprint')],
      decode: (w) => [String(w.u8()), String(w.u8()), nonEmptyHex(w, 'fingerprint')],
    },
  ],
  [
    52, // TLSA, RFC 6698 §2.2
    {
      encode: (r) => [
        r.number('certificate usage', 1),
        r.number('selector', 1),
        r.number('matching type', 1),
        r.hex('certificate association data'),
      ],
      decode: (w) => [String(w.u8()), String(w.u8()), String(w.u8()), nonEmptyHex(w, 'certificate association data')],
    },
  ],
  [
    257, // CAA, RFC 8659 §4.1.1: flags tag value, the value a single (usually quoted) string
    {
      encode(r) {
        const flags = r.number('flags', 1);
        const tag = r.word('tag');
        if (!CAA_TAG.test(tag) || tag.length > 255) r.fail(`tag "${tag}" must be 1-255 letters and digits`);
        const value = r.text('value');
        return [flags, Buffer.from([tag.length]), Buffer.from(tag, 'latin1'), value];
      },
      decode(w) {
        const flags = w.u8();
        const tag = w.bytes(w.u8()).toString('latin1');
        if (!CAA_TAG.test(tag)) throw new RdataError(`CAA tag "${tag}" must be 1-255 letters and digits`);
        return [String(flags), tag, quoteText(w.rest())];
      },
    },
  ],
]);

function nonEmptyHex(w: WireReader, field: string): string {
  const bytes = w.rest();
  if (bytes.length === 0) throw new RdataError(`${w.type} ${field} is missing`);
  return hexText(bytes);
}

/** Mnemonics of types with a codec that src/proto/constants.ts does not name; they are stored as TYPEnnn. */
export const EXTRA_MNEMONICS: Record<string, number> = { SSHFP: 44, TLSA: 52 };
