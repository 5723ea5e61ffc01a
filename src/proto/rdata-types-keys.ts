// Keys, fingerprints and certificates published in DNS: SSHFP, TLSA and SMIMEA (hex data), OPENPGPKEY and DHCID
// (base64 data), CERT (RFC 4398) and IPSECKEY (RFC 4025) with its four kinds of gateway.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './rdata-ip.js';
import { nonEmptyBase64, nonEmptyHex, u8, type RdataCodec } from './rdata-codec.js';
import { RdataError, type TokenReader, type WireReader } from './rdata-fields.js';
import { CERT_TYPES, DNSSEC_ALGORITHMS } from './rdata-mnemonics.js';

/** TLSA (RFC 6698 §2.2) and SMIMEA (RFC 8162 §2): usage, selector, matching type, association data in hex. */
const tlsa: RdataCodec = {
  encode: (r) => [
    r.number('certificate usage', 1),
    r.number('selector', 1),
    r.number('matching type', 1),
    r.hex('certificate association data'),
  ],
  decode: (w) => [String(w.u8()), String(w.u8()), String(w.u8()), nonEmptyHex(w, 'certificate association data')],
};

/** Rdata that is one base64 blob: OPENPGPKEY (RFC 7929 §2.3), DHCID (RFC 4701 §3.4). */
function base64Only(field: string): RdataCodec {
  return {
    encode: (r) => [r.base64(field)],
    decode: (w) => [nonEmptyBase64(w, field)],
  };
}

const GATEWAY_NONE = 0;
const GATEWAY_IPV4 = 1;
const GATEWAY_IPV6 = 2;
const GATEWAY_NAME = 3;

/** The gateway field of IPSECKEY (RFC 4025 §2.5), whose form its gateway type decides. */
function readGateway(r: TokenReader, gatewayType: number): Buffer {
  switch (gatewayType) {
    case GATEWAY_NONE: {
      const text = r.word('gateway');
      if (text !== '.') r.fail(`gateway "${text}" must be "." for gateway type 0 (no gateway)`);
      return Buffer.alloc(0);
    }
    case GATEWAY_IPV4:
      return r.parsed('gateway', parseIPv4, 'is not IPv4, which gateway type 1 needs');
    case GATEWAY_IPV6:
      return r.parsed('gateway', parseIPv6, 'is not IPv6, which gateway type 2 needs');
    case GATEWAY_NAME:
      return r.name('gateway');
    default:
      return r.fail(`gateway type ${gatewayType} is not 0 (none), 1 (IPv4), 2 (IPv6) or 3 (domain name)`);
  }
}

function gatewayText(w: WireReader, gatewayType: number): string {
  switch (gatewayType) {
    case GATEWAY_NONE:
      return '.';
    case GATEWAY_IPV4:
      return formatIPv4(w.bytes(4));
    case GATEWAY_IPV6:
      return formatIPv6(w.bytes(16));
    case GATEWAY_NAME:
      return w.name();
    default:
      throw new RdataError(`${w.type} gateway type ${gatewayType} is not 0 (none), 1 (IPv4), 2 (IPv6) or 3 (domain name)`);
  }
}

/** Algorithm 0 means "no key" (RFC 4025 §2.4); any other algorithm needs its key. */
const NO_KEY = 0;

export const KEY_CODECS: [number, RdataCodec][] = [
  [
    44, // SSHFP, RFC 4255 §3.2
    {
      encode: (r) => [r.number('algorithm', 1), r.number('fingerprint type', 1), r.hex('fingerprint')],
      decode: (w) => [String(w.u8()), String(w.u8()), nonEmptyHex(w, 'fingerprint')],
    },
  ],
  [52, tlsa], // TLSA
  [53, tlsa], // SMIMEA
  [61, base64Only('public key')], // OPENPGPKEY
  [49, base64Only('digest')], // DHCID
  [
    37, // CERT, RFC 4398 §2: type and algorithm take their mnemonics (PGP, RSASHA256), printed as numbers like knot
    {
      encode: (r) => [
        r.numberOrMnemonic('certificate type', 2, CERT_TYPES),
        r.number('key tag', 2),
        r.numberOrMnemonic('algorithm', 1, DNSSEC_ALGORITHMS),
        r.base64('certificate'),
      ],
      decode: (w) => [String(w.u16()), String(w.u16()), String(w.u8()), nonEmptyBase64(w, 'certificate')],
    },
  ],
  [
    45, // IPSECKEY, RFC 4025 §2-3: precedence, gateway type, algorithm, gateway, public key (none for algorithm 0)
    {
      encode(r) {
        const precedence = r.number('precedence', 1);
        const gatewayType = r.number('gateway type', 1)[0];
        const algorithm = r.number('algorithm', 1)[0];
        const gateway = readGateway(r, gatewayType);
        if (algorithm === NO_KEY) {
          if (r.remaining > 0) r.fail('has a public key but algorithm 0, which means no key (RFC 4025 §2.4)');
          return [precedence, u8(gatewayType), u8(algorithm), gateway];
        }
        if (r.remaining === 0) r.fail(`public key is missing (algorithm ${algorithm} needs one; 0 means no key)`);
        return [precedence, u8(gatewayType), u8(algorithm), gateway, r.base64('public key')];
      },
      decode(w) {
        const precedence = w.u8();
        const gatewayType = w.u8();
        const algorithm = w.u8();
        const fields = [String(precedence), String(gatewayType), String(algorithm), gatewayText(w, gatewayType)];
        if (algorithm === NO_KEY) {
          if (w.remaining > 0) throw new RdataError(`${w.type} has a public key but algorithm 0, which means no key`);
          return fields;
        }
        return [...fields, nonEmptyBase64(w, 'public key')];
      },
    },
  ],
];
