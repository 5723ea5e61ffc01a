// DNSSEC record types in presentation and wire form: DS and CDS, DNSKEY and CDNSKEY, NSEC, and the two that
// describe a zone to its parent or to a verifier, CSYNC (RFC 7477) and ZONEMD (RFC 8976).

import { decodeTypeBitmap, readTypeBitmap } from './rdata-bitmap.js';
import { hexText, nonEmptyBase64, type RdataCodec } from './rdata-codec.js';
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

/** The types present at a name; an NSEC's own name has at least NSEC, so the list is never empty. */
function nsecTypes(r: TokenReader): Buffer {
  if (r.remaining === 0) r.fail('type bitmap is missing (the NSEC owner has at least NSEC itself, RFC 4034 §4.1.2)');
  return readTypeBitmap(r, 'type bitmap');
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
    62, // CSYNC, RFC 7477 §2.1: SOA serial, flags, the types to synchronise (possibly none)
    {
      encode: (r) => [r.number('SOA serial', 4), r.number('flags', 2), readTypeBitmap(r, 'type bitmap')],
      decode: (w) => [String(w.u32()), String(w.u16()), ...decodeTypeBitmap(w)],
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
