// SvcParams of SVCB and HTTPS (RFC 9460 §7, RFC 9461 §5): each key's value in presentation form (what follows
// "key=", escapes as written) to wire octets and back. A key in generic form, keyNNNNN="...", gives its value octets
// directly (RFC 9460 §2.1); for a key this table knows they are checked as if the key had been written by name.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './rdata-ip.js';
import { parseBase64, quoteText, unescapeText } from './rdata-fields.js';

export class SvcParamError extends Error {}

interface SvcParamCodec {
  /** Value text (escapes as written; undefined when the key has no "=") to wire octets. */
  parse(value: string | undefined): Buffer;
  /** Wire octets to value text, or undefined for a bare key; throws SvcParamError when they are malformed. */
  format(wire: Buffer): string | undefined;
}

export const MANDATORY = 0;
export const ALPN = 1;
export const NO_DEFAULT_ALPN = 2;
const DOHPATH = 7;

/** Mnemonics by key number (RFC 9460 §14.3.2). "dohpath" (RFC 9461) is read but printed as key7: knot 3.2 and BIND 9.18 read only that. */
const KEY_NAMES = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint'];
const KEY_CODES = new Map<string, number>([...KEY_NAMES.map((name, code): [string, number] => [name, code]), ['dohpath', DOHPATH]]);

/** The key number of a mnemonic or keyNNNNN, or undefined. */
export function svcParamKeyCode(name: string): number | undefined {
  const known = KEY_CODES.get(name);
  if (known !== undefined) return known;
  const m = /^key(\d{1,5})$/.exec(name);
  if (!m || Number(m[1]) > 0xffff) return undefined;
  return Number(m[1]);
}

export function svcParamKeyName(code: number): string {
  return KEY_NAMES[code] ?? `key${code}`;
}

function required(value: string | undefined, what: string): Buffer {
  if (value === undefined) throw new SvcParamError(`needs a value (${what})`);
  const octets = unescapeText(value, 'value');
  if (octets.length === 0) throw new SvcParamError(`needs a value (${what})`);
  return octets;
}

/** RFC 9460 Appendix A.1: a comma-separated list in which "\," is a comma and "\\" a backslash within an item. */
function splitList(octets: Buffer): Buffer[] {
  const items: Buffer[] = [];
  let item: number[] = [];
  for (let i = 0; i < octets.length; i++) {
    const b = octets[i];
    if (b === 0x5c) {
      const next = octets[i + 1];
      if (next !== 0x2c && next !== 0x5c) throw new SvcParamError('has "\\" before something other than "," or "\\" in its list');
      item.push(next);
      i++;
    } else if (b === 0x2c) {
      items.push(Buffer.from(item));
      item = [];
    } else {
      item.push(b);
    }
  }
  items.push(Buffer.from(item));
  if (items.some((it) => it.length === 0)) throw new SvcParamError('has an empty item in its comma-separated list');
  return items;
}

function listOf(value: string | undefined, what: string): string[] {
  return splitList(required(value, what)).map((item) => item.toString('latin1'));
}

/** An alpn item as knot writes it unquoted, with the list escapes doubled for the zone-file level (RFC 9460 A.1). */
function alpnItemText(id: Buffer): string {
  let out = '';
  for (const b of id) {
    if (b === 0x2c) out += '\\\\,';
    else if (b === 0x5c) out += '\\\\\\\\';
    else if (b === 0x22 || b === 0x3b || b === 0x28 || b === 0x29) out += '\\' + String.fromCharCode(b);
    else if (b <= 0x20 || b >= 0x7f) out += '\\' + String(b).padStart(3, '0');
    else out += String.fromCharCode(b);
  }
  return out;
}

function noValue(value: string | undefined, key: string): void {
  if (value !== undefined) throw new SvcParamError(`takes no value; write it as "${key}" alone`);
}

function addresses(wire: Buffer, size: 4 | 16, format: (b: Buffer) => string, key: string): string {
  if (wire.length === 0 || wire.length % size !== 0) throw new SvcParamError(`${key} value is ${wire.length} octets, not a whole number of ${size}-octet addresses`);
  const out: string[] = [];
  for (let i = 0; i < wire.length; i += size) out.push(format(wire.subarray(i, i + size)));
  return out.join(',');
}

/** RFC 9461 §5: a relative URI template ("/...") with the "dns" variable, e.g. /dns-query{?dns}. */
function checkDohPath(octets: Buffer): void {
  const text = octets.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(octets)) throw new SvcParamError('dohpath value is not UTF-8');
  if (!text.startsWith('/') || !/\{[?&]?(?:[^}]*,)?dns(?:,[^}]*)?\}/.test(text)) {
    throw new SvcParamError(`dohpath "${text}" must be a path starting with "/" holding the {?dns} variable (RFC 9461 §5)`);
  }
}

const CODECS = new Map<number, SvcParamCodec>([
  [
    MANDATORY,
    {
      parse(value) {
        const codes = listOf(value, 'the keys a client must understand').map((name) => {
          const code = svcParamKeyCode(name);
          if (code === undefined) throw new SvcParamError(`lists "${name}", which is not a SvcParam key`);
          return code;
        });
        const wire = Buffer.alloc(codes.length * 2);
        [...codes].sort((a, b) => a - b).forEach((code, i) => wire.writeUInt16BE(code, i * 2));
        MANDATORY_CODEC.format(wire);
        return wire;
      },
      format(wire) {
        if (wire.length === 0 || wire.length % 2 !== 0) throw new SvcParamError(`mandatory value is ${wire.length} octets, not a list of 2-octet keys`);
        const names: string[] = [];
        for (let i = 0; i < wire.length; i += 2) {
          const code = wire.readUInt16BE(i);
          if (code === MANDATORY) throw new SvcParamError('mandatory lists itself (RFC 9460 §8)');
          const previous = i > 0 ? wire.readUInt16BE(i - 2) : -1;
          if (code === previous) throw new SvcParamError(`mandatory lists ${svcParamKeyName(code)} twice`);
          if (code < previous) throw new SvcParamError('mandatory keys are not in ascending order (RFC 9460 §8)');
          names.push(svcParamKeyName(code));
        }
        return names.join(',');
      },
    },
  ],
  [
    ALPN,
    {
      parse(value) {
        const ids = splitList(required(value, 'protocol ids such as h2,h3'));
        for (const id of ids) if (id.length > 255) throw new SvcParamError(`alpn id of ${id.length} octets is over 255`);
        return Buffer.concat(ids.flatMap((id) => [Buffer.from([id.length]), id]));
      },
      format(wire) {
        const ids: string[] = [];
        for (let i = 0; i < wire.length; ) {
          const length = wire[i];
          if (length === 0 || i + 1 + length > wire.length) throw new SvcParamError('alpn value is not a list of length-prefixed protocol ids');
          ids.push(alpnItemText(wire.subarray(i + 1, i + 1 + length)));
          i += 1 + length;
        }
        if (ids.length === 0) throw new SvcParamError('alpn value is empty');
        return ids.join(',');
      },
    },
  ],
  [
    NO_DEFAULT_ALPN,
    {
      parse(value) {
        noValue(value, 'no-default-alpn');
        return Buffer.alloc(0);
      },
      format(wire) {
        if (wire.length !== 0) throw new SvcParamError('no-default-alpn has a value; it must be empty');
        return undefined;
      },
    },
  ],
  [
    3, // port
    {
      parse(value) {
        const text = required(value, 'a port number').toString('latin1');
        if (!/^\d{1,5}$/.test(text) || Number(text) > 0xffff) throw new SvcParamError(`port "${text}" is not a number 0-65535`);
        const wire = Buffer.alloc(2);
        wire.writeUInt16BE(Number(text));
        return wire;
      },
      format(wire) {
        if (wire.length !== 2) throw new SvcParamError(`port value is ${wire.length} octets, not 2`);
        return String(wire.readUInt16BE(0));
      },
    },
  ],
  [
    4, // ipv4hint
    {
      parse: (value) =>
        Buffer.concat(
          listOf(value, 'IPv4 addresses').map((text) => {
            const bytes = parseIPv4(text);
            if (bytes === undefined) throw new SvcParamError(`ipv4hint "${text}" is not IPv4`);
            return bytes;
          }),
        ),
      format: (wire) => addresses(wire, 4, formatIPv4, 'ipv4hint'),
    },
  ],
  [
    5, // ech: an ECHConfigList in base64
    {
      parse(value) {
        const text = required(value, 'an ECHConfigList in base64').toString('latin1');
        const bytes = parseBase64(text);
        if (bytes === undefined || bytes.length === 0) throw new SvcParamError(`ech "${text}" is not base64`);
        return bytes;
      },
      format(wire) {
        if (wire.length === 0) throw new SvcParamError('ech value is empty');
        return wire.toString('base64');
      },
    },
  ],
  [
    6, // ipv6hint
    {
      parse: (value) =>
        Buffer.concat(
          listOf(value, 'IPv6 addresses').map((text) => {
            const bytes = parseIPv6(text);
            if (bytes === undefined) throw new SvcParamError(`ipv6hint "${text}" is not IPv6`);
            return bytes;
          }),
        ),
      format: (wire) => addresses(wire, 16, formatIPv6, 'ipv6hint'),
    },
  ],
  [
    DOHPATH,
    {
      parse(value) {
        const octets = required(value, 'a URI template such as /dns-query{?dns}');
        checkDohPath(octets);
        return octets;
      },
      format(wire) {
        checkDohPath(wire);
        return quoteText(wire);
      },
    },
  ],
]);

const MANDATORY_CODEC = CODECS.get(MANDATORY) as SvcParamCodec;

/** A key's value in its generic form: char-string octets, printed quoted; no "=" or `=""` is an empty value. */
const GENERIC: SvcParamCodec = {
  parse: (value) => (value === undefined ? Buffer.alloc(0) : unescapeText(value, 'value')),
  format: (wire) => (wire.length === 0 ? undefined : quoteText(wire)),
};

/**
 * One SvcParam's value to wire octets. `generic` is true for keyNNNNN: the octets are taken as they are and then
 * checked by the key's own format, so key3="\000\053" is port 53 and key3=53 an error.
 */
export function parseSvcParamValue(code: number, value: string | undefined, generic: boolean): Buffer {
  const codec = CODECS.get(code);
  if (codec === undefined || (generic && code !== DOHPATH)) {
    const wire = GENERIC.parse(value);
    codec?.format(wire);
    return wire;
  }
  return codec.parse(value);
}

/** "key=value" or "key" as knot prints it, from the key number and its wire value. */
export function formatSvcParam(code: number, wire: Buffer): string {
  const value = (CODECS.get(code) ?? GENERIC).format(wire);
  const name = svcParamKeyName(code);
  return value === undefined ? name : `${name}=${value}`;
}
