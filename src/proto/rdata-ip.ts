// IPv4 and IPv6 addresses in presentation form, for A (RFC 1035 §3.4.1) and AAAA (RFC 3596 §2.4).

/** Dotted quad with no leading zeros (knot rejects "01.2.3.4": octal or decimal is ambiguous). */
export function parseIPv4(text: string): Buffer | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5);
  if (octets.some((o) => (o.length > 1 && o[0] === '0') || Number(o) > 255)) return undefined;
  return Buffer.from(octets.map(Number));
}

export function formatIPv4(bytes: Buffer): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Every text form of RFC 4291 §2.2: full, "::"-compressed, and with a trailing dotted quad. */
export function parseIPv6(text: string): Buffer | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let head = text;
  let tail: Buffer | undefined;
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    if (lastColon < 0) return undefined;
    tail = parseIPv4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const wanted = tail ? 6 : 8;
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const split = (s: string): string[] => (s === '' ? [] : s.split(':'));
  let groups: string[];
  if (halves.length === 2) {
    const left = split(halves[0]);
    const right = split(halves[1]);
    const missing = wanted - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  } else {
    groups = head.split(':');
    if (groups.length !== wanted) return undefined;
  }
  const out = Buffer.alloc(16);
  for (let g = 0; g < groups.length; g++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[g])) return undefined;
    out.writeUInt16BE(parseInt(groups[g], 16), g * 2);
  }
  if (tail) tail.copy(out, 12);
  return out;
}

/**
 * RFC 5952 §4: lower-case hex, no leading zeros, the longest run of two or more zero groups (the first on a tie)
 * as "::". Like glibc's inet_ntop, which knot prints with, only IPv4-mapped addresses (::ffff:0:0/96, RFC 5952 §5)
 * keep their dotted-quad tail.
 */
export function formatIPv6(bytes: Buffer): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen === 5 && bestStart === 0 && words[5] === 0xffff) return `::ffff:${formatIPv4(bytes.subarray(12))}`;
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}
