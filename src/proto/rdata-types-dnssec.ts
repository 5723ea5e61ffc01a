// DNSSEC record types in presentation and wire form: DS and CDS, DNSKEY and CDNSKEY, RRSIG, and ZONEMD (RFC 8976),
// which lets a verifier check a whole zone. NSEC, NSEC3 and CSYNC, the types with a type bitmap, are in
// rdata-types-nsec.ts.

import { typeCode, typeName } from './constants.js';
import { hexText, nonEmptyBase64, u16, type RdataCodec } from './rdata-codec.js';
import { RdataError, type TokenReader } from './rdata-fields.js';
import { DNSSEC_ALGORITHMS } from './rdata-mnemonics.js';

/** Digest lengths of the DS digest types whose length is fixed (RFC 4034 §5.1.4 SHA-1, RFC 4509 SHA-256, RFC 6605 SHA-384). */
const DS_DIGEST_LENGTH = new Map([
  [1, 20],
  [2, 32],
  [4, 48],
]);

/** What is wrong with a DS digest of `length` octets, if anything. */
function dsDigestProblem(digestType: number, length: number): string | undefined {
  const wanted = DS_DIGEST_LENGTH.get(digestType);
  if (wanted !== undefined && length !== wanted) return `digest is ${length} octets; digest type ${digestType} has ${wanted}`;
  return undefined;
}

/** DS (RFC 4034 §5.3) and CDS (RFC 7344 §3.1; "0 0 0 00" asks the parent to delete the DS, RFC 8078 §4). */
const ds: RdataCodec = {
  encode(r) {
    const keyTag = r.number('key tag', 2);
    const algorithm = r.numberOrMnemonic('algorithm', 1, DNSSEC_ALGORITHMS);
    const digestType = r.number('digest type', 1);
    const digest = r.hex('digest');
    const problem = dsDigestProblem(digestType[0], digest.length);
    if (problem !== undefined) r.fail(problem);
    return [keyTag, algorithm, digestType, digest];
  },
  decode(w) {
    const fields = [String(w.u16()), String(w.u8())];
    const digestType = w.u8();
    const digest = w.rest();
    if (digest.length === 0) throw new RdataError(`${w.type} digest is missing`);
    const problem = dsDigestProblem(digestType, digest.length);
    if (problem !== undefined) throw new RdataError(`${w.type} ${problem}`);
    return [...fields, String(digestType), hexText(digest)];
  },
};

/** DNSKEY (RFC 4034 §2.2) and CDNSKEY (RFC 7344 §3.2): flags, protocol, algorithm, base64 public key. */
const dnskey: RdataCodec = {
  encode: (r) => [r.number('flags', 2), r.number('protocol', 1), r.numberOrMnemonic('algorithm', 1, DNSSEC_ALGORITHMS), r.base64('public key')],
  decode: (w) => [String(w.u16()), String(w.u8()), String(w.u8()), nonEmptyBase64(w, 'public key')],
};

/**
 * RRSIG signature times (RFC 4034 §3.2): YYYYMMDDHHmmSS in UTC, or seconds since 1970 as a plain number. Written as
 * the date, as knot and BIND print them; 32 bits reach 2106-02-07.
 */
function readTime(r: TokenReader, field: string): Buffer {
  const text = r.word(field);
  let seconds: number;
  const date = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (date) {
    const [year, month, day, hour, minute, second] = date.slice(1).map(Number);
    seconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
    const back = new Date(seconds * 1000);
    if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
      r.fail(`${field} "${text}" is not a date and time YYYYMMDDHHmmSS`);
    }
  } else if (/^\d{1,10}$/.test(text)) {
    seconds = Number(text);
  } else {
    return r.fail(`${field} "${text}" is neither YYYYMMDDHHmmSS nor a number of seconds`);
  }
  if (seconds < 0 || seconds > 0xffffffff) r.fail(`${field} "${text}" is outside 1970-01-01 to 2106-02-07 (32 bits)`);
  const wire = Buffer.alloc(4);
  wire.writeUInt32BE(seconds);
  return wire;
}

function timeText(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-T:]/g, '').slice(0, 14);
}

/** ZONEMD digest lengths by hash algorithm (RFC 8976 §2.2.3: SHA384 and SHA512). */
const ZONEMD_DIGEST_LENGTH = new Map([
  [1, 48],
  [2, 64],
]);
const ZONEMD_MIN_DIGEST = 12; // RFC 8976 §2.2.4

function zonemdDigestProblem(hashAlgorithm: number, length: number): string | undefined {
  const wanted = ZONEMD_DIGEST_LENGTH.get(hashAlgorithm);
  if (wanted !== undefined && length !== wanted) return `digest is ${length} octets; hash algorithm ${hashAlgorithm} has ${wanted}`;
  if (length < ZONEMD_MIN_DIGEST) return `digest is ${length} octets; the minimum is ${ZONEMD_MIN_DIGEST} (RFC 8976 §2.2.4)`;
  return undefined;
}

export const DNSSEC_CODECS: [number, RdataCodec][] = [
  [43, ds], // DS
  [59, ds], // CDS
  [48, dnskey], // DNSKEY
  [60, dnskey], // CDNSKEY
  [
    46, // RRSIG, RFC 4034 §3.2; the signer's name compares case-insensitively (§6.2)
    {
      encode(r) {
        const coveredText = r.word('type covered');
        const covered = typeCode(coveredText);
        if (covered === undefined) return r.fail(`type covered "${coveredText}" is not a record type (write unlisted types as TYPEnnn)`);
        return [
          u16(covered),
          r.numberOrMnemonic('algorithm', 1, DNSSEC_ALGORITHMS),
          r.number('labels', 1),
          r.number('original TTL', 4),
          readTime(r, 'signature expiration'),
          readTime(r, 'signature inception'),
          r.number('key tag', 2),
          r.name('signer name'),
          r.base64('signature'),
        ];
      },
      decode: (w) => [
        typeName(w.u16()),
        String(w.u8()),
        String(w.u8()),
        String(w.u32()),
        timeText(w.u32()),
        timeText(w.u32()),
        String(w.u16()),
        w.name(),
        nonEmptyBase64(w, 'signature'),
      ],
      names: [7],
    },
  ],
  [
    63, // ZONEMD, RFC 8976 §2.2: SOA serial, scheme, hash algorithm, digest in hex
    {
      encode(r) {
        const fields = [r.number('serial', 4), r.number('scheme', 1)];
        const hash = r.number('hash algorithm', 1);
        const digest = r.hex('digest');
        const problem = zonemdDigestProblem(hash[0], digest.length);
        if (problem !== undefined) r.fail(problem);
        return [...fields, hash, digest];
      },
      decode(w) {
        const fields = [String(w.u32()), String(w.u8())];
        const hash = w.u8();
        const digest = w.rest();
        const problem = zonemdDigestProblem(hash, digest.length);
        if (problem !== undefined) throw new RdataError(`${w.type} ${problem}`);
        return [...fields, String(hash), hexText(digest)];
      },
    },
  ],
];
