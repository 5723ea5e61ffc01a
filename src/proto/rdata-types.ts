// Presentation and wire forms of the record types edgedns understands field by field: the RFC 1035 types and their
// close relatives here, the other families in rdata-types-*.ts. Every other type is carried in the RFC 3597 generic
// form.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './rdata-ip.js';
import { RdataError, quoteText } from './rdata-fields.js';
import type { RdataCodec } from './rdata-codec.js';
import { DNSSEC_CODECS } from './rdata-types-dnssec.js';
import { KEY_CODECS } from './rdata-types-keys.js';
import { MISC_CODECS } from './rdata-types-misc.js';
import { NSEC_CODECS } from './rdata-types-nsec.js';
import { SVCB_CODECS } from './rdata-types-svcb.js';

const singleName: RdataCodec = {
  encode: (r) => [r.name('name')],
  decode: (w) => [w.name()],
  target: 0,
  names: true,
};

const CAA_TAG = /^[A-Za-z0-9]+$/; // RFC 8659 §4.1: letters and digits only, at least one

/** TXT and SPF (RFC 7208 §3.1, the same form): one or more character-strings. */
const strings: RdataCodec = {
  encode(r) {
    const out = [r.characterString('string')];
    for (let i = 2; r.remaining > 0; i++) out.push(r.characterString(`string ${i}`));
    return out;
  },
  decode(w) {
    const out = [w.characterString()];
    while (w.remaining > 0) out.push(w.characterString());
    return out;
  },
};

/** A 16-bit number and a name: MX (RFC 1035 §3.3.9), AFSDB (RFC 1183 §1), KX (RFC 2230 §3). */
function numberAndName(number: string, name: string): RdataCodec {
  return {
    encode: (r) => [r.number(number, 2), r.name(name)],
    decode: (w) => [String(w.u16()), w.name()],
    names: true,
  };
}

/** Two names: RP (RFC 1183 §2.2), MINFO (RFC 1035 §3.3.7). */
function twoNames(first: string, second: string): RdataCodec {
  return {
    encode: (r) => [r.name(first), r.name(second)],
    decode: (w) => [w.name(), w.name()],
    names: true,
  };
}

const BASIC_CODECS: [number, RdataCodec][] = [
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
  [15, { ...numberAndName('preference', 'exchange'), target: 1 }], // MX
  [18, numberAndName('subtype', 'hostname')], // AFSDB
  [36, numberAndName('preference', 'exchanger')], // KX
  [17, twoNames('mailbox', 'text name')], // RP
  [14, twoNames('responsible mailbox', 'error mailbox')], // MINFO
  [16, strings], // TXT
  [99, strings], // SPF
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
];

export const CODECS = new Map<number, RdataCodec>([...BASIC_CODECS, ...DNSSEC_CODECS, ...NSEC_CODECS, ...KEY_CODECS, ...SVCB_CODECS, ...MISC_CODECS]);

