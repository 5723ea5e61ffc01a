// The field-level pieces of the rdata codec: reading presentation tokens into wire octets and wire octets back
// into canonical presentation, one field at a time, with errors that name the type and the field.

import { checkLabels, labelsToText, NameError, nameToWire, parseName } from './names.js';
import type { Token } from './zonefile-tokenizer.js';

export class RdataError extends Error {
  override name = 'RdataError';
}

const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Seconds, or BIND/knot unit form ("1h", "2d", "1w2d", any case). Every number needs a unit once units are used:
 * knot rejects "1h30". Returns undefined for anything else; callers check the range they allow.
 */
export function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+[smhdw])+$/i.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhdw])/gi)) total += Number(n) * TTL_UNITS[unit.toLowerCase()];
  return total;
}

/** Resolves the escapes a token keeps (`\DDD` is one octet, `\X` is X); other characters are UTF-8. */
export function unescapeText(text: string, what: string): Buffer {
  const out: number[] = [];
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i];
    if (ch === '\\') {
      const next = chars[i + 1];
      if (next === undefined) throw new RdataError(`${what} ends with a lone backslash`);
      if (/[0-9]/.test(next)) {
        const digits = chars.slice(i + 1, i + 4).join('');
        if (!/^[0-9]{3}$/.test(digits)) throw new RdataError(`${what} has a bad escape \\${digits} (expected \\DDD)`);
        const code = Number(digits);
        if (code > 255) throw new RdataError(`${what} has escape \\${digits}, over 255`);
        out.push(code);
        i += 3;
        continue;
      }
      ch = next;
      i++;
    }
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x80) out.push(code);
    else out.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(out);
}

/** A character-string in quotes: `"` and `\` escaped, octets outside printable ASCII as `\DDD` (as knot prints). */
export function quoteText(bytes: Buffer): string {
  let out = '"';
  for (const b of bytes) {
    if (b < 0x20 || b >= 0x7f) out += '\\' + String(b).padStart(3, '0');
    else if (b === 0x22 || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else out += String.fromCharCode(b);
  }
  return out + '"';
}

function uint(n: number, bytes: 1 | 2 | 4): Buffer {
  const buf = Buffer.alloc(bytes);
  buf.writeUIntBE(n, 0, bytes);
  return buf;
}

const MAX_CHARACTER_STRING = 255; // RFC 1035 §3.3: one length octet

/** Reads one record's presentation tokens field by field. */
export class TokenReader {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    readonly type: string,
    readonly origin: string | undefined,
  ) {}

  get remaining(): number {
    return this.tokens.length - this.pos;
  }

  fail(message: string): never {
    throw new RdataError(`${this.type} ${message}`);
  }

  next(field: string): Token {
    const token = this.tokens[this.pos];
    if (token === undefined) this.fail(`${field} is missing`);
    this.pos++;
    return token;
  }

  /** An unquoted field: numbers, names, addresses, mnemonics. */
  word(field: string): string {
    const token = this.next(field);
    if (token.quoted) this.fail(`${field} must not be quoted ("${token.text}")`);
    return token.text;
  }

  /** A field `parse` understands; `complaint` finishes the error message when it does not. */
  parsed(field: string, parse: (text: string) => Buffer | undefined, complaint: string): Buffer {
    const text = this.word(field);
    const bytes = parse(text);
    if (bytes === undefined) this.fail(`${field} "${text}" ${complaint}`);
    return bytes;
  }

  number(field: string, octets: 1 | 2 | 4): Buffer {
    const text = this.word(field);
    const max = 2 ** (8 * octets) - 1;
    if (!/^\d+$/.test(text) || Number(text) > max) this.fail(`${field} "${text}" is not a number 0-${max}`);
    return uint(Number(text), octets);
  }

  /** A 32-bit count of seconds that also takes TTL units, like the SOA timers in BIND and knot. */
  seconds(field: string): Buffer {
    const text = this.word(field);
    const value = parseTtl(text);
    if (value === undefined || value > 0xffffffff) {
      this.fail(`${field} "${text}" is not a number of seconds 0-4294967295 or a time like 1h, 2d, 1w2d`);
    }
    return uint(value, 4);
  }

  /** Wire form of a domain name, uncompressed and with case preserved (RFC 3597 §4 forbids compressing new types). */
  name(field: string): Buffer {
    const text = this.word(field);
    try {
      return nameToWire(parseName(text, this.origin));
    } catch (err) {
      if (err instanceof NameError) this.fail(`${field} "${text}": ${err.message}`);
      throw err;
    }
  }

  /** The next token, not consumed; undefined at the end. */
  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  /** A number or one of `mnemonics` (matched case-insensitively), e.g. a DNSSEC algorithm written RSASHA256. */
  numberOrMnemonic(field: string, octets: 1 | 2, mnemonics: ReadonlyMap<string, number>): Buffer {
    const text = this.word(field);
    const known = mnemonics.get(text.toUpperCase());
    if (known !== undefined) return uint(known, octets);
    const max = 2 ** (8 * octets) - 1;
    if (!/^\d+$/.test(text) || Number(text) > max) this.fail(`${field} "${text}" is neither a number 0-${max} nor a known mnemonic`);
    return uint(Number(text), octets);
  }

  /** A token that may hold a string: quoted or not, but not a `key="value"` word, which only SVCB/HTTPS take. */
  private stringToken(field: string): Token {
    const token = this.next(field);
    if (token.valueQuoted) this.fail(`${field} "${token.text}" has a quote inside the word; quote the whole string`);
    return token;
  }

  /** RFC 1035 §3.3 <character-string>: quoted or not, with its length octet. */
  characterString(field: string): Buffer {
    const token = this.stringToken(field);
    const bytes = unescapeText(token.text, `${this.type} ${field}`);
    if (bytes.length > MAX_CHARACTER_STRING) {
      this.fail(`${field} is ${bytes.length} octets; a character-string holds at most ${MAX_CHARACTER_STRING}`);
    }
    return Buffer.concat([uint(bytes.length, 1), bytes]);
  }

  /** Octets that run to the end of the rdata, written as one string (CAA value). */
  text(field: string): Buffer {
    const token = this.stringToken(field);
    return unescapeText(token.text, `${this.type} ${field}`);
  }

  /** Hex octets in the remaining tokens, which may be split by spaces (RFC 3597 §5, DS, TLSA, SSHFP). */
  hex(field: string, allowEmpty = false): Buffer {
    let digits = '';
    while (this.remaining > 0) digits += this.word(field);
    if (digits === '' && !allowEmpty) this.fail(`${field} is missing`);
    if (!/^([0-9a-fA-F]{2})*$/.test(digits)) this.fail(`${field} "${digits}" is not an even number of hex digits`);
    return Buffer.from(digits, 'hex');
  }

  /** Base64 (RFC 4648 §4) in the remaining tokens, which may be split by spaces (DNSKEY, CERT, OPENPGPKEY, ...). */
  base64(field: string): Buffer {
    let text = '';
    while (this.remaining > 0) text += this.word(field);
    if (text === '') this.fail(`${field} is missing`);
    const bytes = parseBase64(text);
    if (bytes === undefined) this.fail(`${field} "${shorten(text)}" is not base64 (A-Z, a-z, 0-9, +, /, in groups of 4 with = padding)`);
    return bytes;
  }

  end(): void {
    const extra = this.tokens[this.pos];
    if (extra !== undefined) this.fail(`has unexpected data "${extra.text}"`);
  }
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Strict base64: whole groups of four, "=" only as padding at the end; undefined for anything else. */
export function parseBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Reads wire rdata field by field into canonical presentation text. */
export class WireReader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    readonly type: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private take(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new RdataError(`${this.type} rdata is too short`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0];
  }

  u16(): number {
    return this.take(2).readUInt16BE(0);
  }

  u32(): number {
    return this.take(4).readUInt32BE(0);
  }

  bytes(n: number): Buffer {
    return this.take(n);
  }

  rest(): Buffer {
    return this.take(this.remaining);
  }

  name(): string {
    const labels: string[] = [];
    for (;;) {
      const len = this.u8();
      if (len === 0) break;
      if (len > 63) throw new RdataError(`${this.type} rdata holds a compressed or extended-label name`);
      labels.push(this.take(len).toString('latin1'));
    }
    try {
      checkLabels(labels, labelsToText(labels));
    } catch (err) {
      if (err instanceof NameError) throw new RdataError(`${this.type} rdata: ${err.message}`);
      throw err;
    }
    return labelsToText(labels);
  }

  characterString(): string {
    return quoteText(this.take(this.u8()));
  }

  end(): void {
    if (this.remaining > 0) throw new RdataError(`${this.type} rdata has ${this.remaining} octets left over`);
  }
}
