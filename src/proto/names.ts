// Domain names in presentation form (RFC 1035 §5.1) and on the wire (§3.1).
// Inside edgedns a name is its absolute presentation text ending in "."; the lower-cased text is the lookup key
// (RFC 4343: ASCII case-insensitive). Labels are held as latin1 strings so every octet survives.

export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

export class NameError extends Error {}

/** Splits a presentation name into raw labels, resolving `\.`, `\\` and `\DDD`; relative names get `origin` appended. */
export function parseName(text: string, origin?: string): string[] {
  if (text === '@') {
    if (origin === undefined) throw new NameError('"@" used without an origin');
    return parseName(origin);
  }
  if (text === '.') return [];
  if (text.length === 0) throw new NameError('empty name');
  const labels: string[] = [];
  let label = '';
  let absolute = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) throw new NameError(`name "${text}" ends with a lone backslash`);
      if (/[0-9]/.test(next)) {
        const digits = text.slice(i + 1, i + 4);
        if (!/^[0-9]{3}$/.test(digits)) throw new NameError(`bad escape \\${digits} in "${text}" (expected \\DDD)`);
        const code = Number(digits);
        if (code > 255) throw new NameError(`escape \\${digits} in "${text}" is over 255`);
        label += String.fromCharCode(code);
        i += 3;
      } else {
        label += next;
        i += 1;
      }
      continue;
    }
    if (ch === '.') {
      if (label.length === 0) throw new NameError(`empty label in "${text}"`);
      labels.push(label);
      label = '';
      if (i === text.length - 1) absolute = true;
      continue;
    }
    const code = ch.charCodeAt(0);
    if (code > 255) throw new NameError(`"${text}" has a character outside one octet; use punycode (xn--) for IDNs`);
    label += ch;
  }
  if (!absolute) {
    if (label.length > 0) labels.push(label);
    if (origin === undefined) throw new NameError(`relative name "${text}" without an origin`);
    labels.push(...parseName(origin));
  }
  checkLabels(labels, text);
  return labels;
}

export function checkLabels(labels: string[], shown: string): void {
  let wire = 1;
  for (const label of labels) {
    if (label.length > MAX_LABEL) throw new NameError(`label "${label.slice(0, 20)}…" in "${shown}" is ${label.length} octets; the limit is ${MAX_LABEL}`);
    wire += label.length + 1;
  }
  if (wire > MAX_NAME_WIRE) throw new NameError(`name "${shown}" is ${wire} octets on the wire; the limit is ${MAX_NAME_WIRE}`);
}

function escapeLabel(label: string): string {
  let out = '';
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    const ch = label[i];
    if (c <= 0x20 || c >= 0x7f) out += '\\' + String(c).padStart(3, '0');
    else if (ch === '.' || ch === '\\' || ch === '"' || ch === '(' || ch === ')' || ch === ';' || ch === '@' || ch === '$') out += '\\' + ch;
    else out += ch;
  }
  return out;
}

export function labelsToText(labels: readonly string[]): string {
  if (labels.length === 0) return '.';
  return labels.map(escapeLabel).join('.') + '.';
}

/** Canonical absolute presentation text of a name, preserving case. */
export function normalizeName(text: string, origin?: string): string {
  return labelsToText(parseName(text, origin));
}

/** The lookup key of a name: its canonical text lower-cased (ASCII only, RFC 4343). */
export function nameKey(text: string, origin?: string): string {
  return lowerAscii(normalizeName(text, origin));
}

export function lowerAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export function nameToWire(labels: readonly string[]): Buffer {
  let size = 1;
  for (const l of labels) size += l.length + 1;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (const l of labels) {
    buf[off++] = l.length;
    off += buf.write(l, off, 'latin1');
  }
  buf[off] = 0;
  return buf;
}

export function textToWire(text: string): Buffer {
  return nameToWire(parseName(text));
}

/** Parent of an absolute key ("a.b." → "b.", "b." → "."); undefined for the root. */
export function parentKey(key: string): string | undefined {
  if (key === '.') return undefined;
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '\\') {
      i++;
      continue;
    }
    if (key[i] === '.') return i === key.length - 1 ? '.' : key.slice(i + 1);
  }
  return '.';
}

export function labelCount(key: string): number {
  return key === '.' ? 0 : parseName(key).length;
}

/** True when `name` equals `zone` or lies below it; both are keys. */
export function isInZone(name: string, zone: string): boolean {
  if (zone === '.') return true;
  if (name === zone) return true;
  if (!name.endsWith('.' + zone)) return false;
  // the character before ".zone" must not be an escaping backslash
  let backslashes = 0;
  for (let i = name.length - zone.length - 2; i >= 0 && name[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 0;
}
