// The rdata codec: a record's presentation text (after the type) to wire octets, canonical text and the name
// additional-section processing follows. Types without a codec use the RFC 3597 generic form `\# <len> <hex>`.

import { typeCode, typeName } from './constants.js';
import { lowerAscii } from './names.js';
import { RdataError, TokenReader, WireReader } from './rdata-fields.js';
import type { RdataCodec } from './rdata-codec.js';
import { CODECS } from './rdata-types.js';
import { TokenizeError, tokenizeLine, type Token } from './zonefile-tokenizer.js';

export { RdataError, parseTtl } from './rdata-fields.js';

export interface ParsedRdata {
  type: number;
  /** RDATA octets; names uncompressed, case as written. */
  wire: Buffer;
  /** Canonical presentation form, names absolute; parsing it again gives the same wire. */
  text: string;
  /** Lower-case key of the name to chase (CNAME, NS, MX, SRV, PTR, SVCB, HTTPS); undefined for the root ("." means "none"). */
  target?: string;
}

const MAX_RDATA = 0xffff; // RDLENGTH is 16 bits (RFC 1035 §3.2.1)

/** Type code of a mnemonic or `TYPEnnn` (RFC 3597 §5), case-insensitively. */
export function rrTypeCode(name: string): number | undefined {
  return typeCode(name);
}

/** The mnemonic to write in a zone file, or `TYPEnnn` for a type without one. */
export function rrTypeMnemonic(code: number): string {
  return typeName(code);
}

/** Why a type can never be zone data, or undefined when it can. */
export function notZoneData(code: number): string | undefined {
  const name = typeName(code);
  if (code === 0) return 'type 0 is reserved (RFC 6895 §3.1) and cannot be zone data';
  if (code === 39) return 'DNAME records are not supported: edgedns does not implement RFC 6672 redirection';
  if (code === 41) return 'OPT is the EDNS pseudo-record (RFC 6891 §6.1.1) and cannot be zone data';
  if (code >= 128 && code <= 255) return `${name} is a query or meta type (RFC 6895 §3.1: 128-255) and cannot be zone data`;
  return undefined;
}

/** Canonical text and target from wire octets, through the type's codec or the generic form. */
function describe(code: number, wire: Buffer): ParsedRdata {
  const codec = CODECS.get(code);
  if (codec === undefined) {
    const hex = wire.toString('hex').toUpperCase();
    return { type: code, wire, text: wire.length === 0 ? '\\# 0' : `\\# ${wire.length} ${hex}` };
  }
  const reader = new WireReader(wire, rrTypeMnemonic(code));
  const fields = codec.decode(reader);
  reader.end();
  const parsed: ParsedRdata = { type: code, wire, text: fields.join(' ') };
  if (codec.target !== undefined && fields[codec.target] !== '.') parsed.target = lowerAscii(fields[codec.target]);
  return parsed;
}

/** RFC 3597 §5: `\# <length> <hex...>`, valid for every type, known or not. */
function parseGeneric(r: TokenReader): Buffer {
  const lengthText = r.word('generic rdata length');
  if (!/^\d+$/.test(lengthText) || Number(lengthText) > MAX_RDATA) {
    r.fail(`generic rdata length "${lengthText}" is not a number 0-${MAX_RDATA}`);
  }
  const wire = r.hex('generic rdata', true);
  if (wire.length !== Number(lengthText)) r.fail(`generic rdata is ${wire.length} octets but its length says ${lengthText}`);
  return wire;
}

/** Parses the rdata tokens of one record of `type` (mnemonic or TYPEnnn); relative names are completed with `origin`. */
export function parseRdata(type: string, tokens: Token[], origin?: string): ParsedRdata {
  const code = rrTypeCode(type);
  if (code === undefined) throw new RdataError(`unknown record type "${type}"; write unlisted types as TYPEnnn with \\# rdata`);
  const refused = notZoneData(code);
  if (refused !== undefined) throw new RdataError(refused);
  const mnemonic = rrTypeMnemonic(code);
  const reader = new TokenReader(tokens, mnemonic, origin);
  const first = tokens[0];
  let wire: Buffer;
  if (first !== undefined && !first.quoted && first.text === '\\#') {
    reader.next('\\#');
    wire = parseGeneric(reader);
  } else {
    const codec = CODECS.get(code);
    if (codec === undefined) {
      throw new RdataError(`${mnemonic} rdata must be written in the RFC 3597 generic form "\\# <length> <hex>"`);
    }
    wire = Buffer.concat(codec.encode(reader));
    reader.end();
  }
  if (wire.length > MAX_RDATA) throw new RdataError(`${mnemonic} rdata is ${wire.length} octets; the limit is ${MAX_RDATA}`);
  return describe(code, wire);
}

/** parseRdata over presentation text, tokenized like a zone file line. */
export function parseRdataText(type: string, text: string, origin = '.'): ParsedRdata {
  let tokens: Token[];
  try {
    tokens = tokenizeLine(text);
  } catch (err) {
    if (err instanceof TokenizeError) throw new RdataError(`${type} rdata: ${err.message}`);
    throw err;
  }
  return parseRdata(type, tokens, origin);
}

/**
 * A record's wire rdata (names uncompressed, as in a dynamic update once read) as ParsedRdata: canonical text
 * through the type's codec, or the generic form. Throws RdataError for malformed rdata or a type that cannot be data.
 */
export function rdataFromWire(code: number, wire: Buffer): ParsedRdata {
  const refused = notZoneData(code);
  if (refused !== undefined) throw new RdataError(refused);
  if (wire.length > MAX_RDATA) throw new RdataError(`${rrTypeMnemonic(code)} rdata is ${wire.length} octets; the limit is ${MAX_RDATA}`);
  return describe(code, Buffer.from(wire));
}

/** Two records of one RRset are the same record when their keys are equal (RFC 2181 §5, RFC 4034 §6.2). */
export function rdataKey(parsed: ParsedRdata): string {
  const names = CODECS.get(parsed.type)?.names;
  if (names === undefined) return parsed.text;
  if (names === true) return lowerAscii(parsed.text);
  const codec = CODECS.get(parsed.type) as RdataCodec;
  const fields = codec.decode(new WireReader(parsed.wire, rrTypeMnemonic(parsed.type)));
  return fields.map((field, i) => (names.includes(i) ? lowerAscii(field) : field)).join(' ');
}
