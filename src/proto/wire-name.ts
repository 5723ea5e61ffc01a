// Names as they arrive in a message, compression pointers included (RFC 1035 §4.1.4), read with every step
// bounded: a pointer must point backwards (so no loop), the name stays within 255 octets, the walk within the
// message. For the UPDATE reader, whose records (unlike a query's question) may be compressed.

import { labelsToText, lowerAscii, MAX_LABEL, MAX_NAME_WIRE } from './names.js';

export interface WireName {
  /** Raw labels, case as sent. */
  labels: string[];
  /** Offset just past the name where it starts (after its pointer, if it ends in one). */
  end: number;
}

/** The name at `offset`, or undefined when it is malformed (bad pointer, bad label type, too long, truncated). */
export function readWireName(msg: Buffer, offset: number): WireName | undefined {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  let wire = 1;
  // Each pointer must go to an earlier octet than the last place it was followed from: a loop cannot form.
  let limit = offset;
  for (;;) {
    if (pos >= msg.length) return undefined;
    const len = msg[pos] as number;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { labels, end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) return undefined;
      const target = ((len & 0x3f) << 8) | (msg[pos + 1] as number);
      if (end < 0) end = pos + 2;
      if (target >= limit) return undefined;
      limit = target;
      pos = target;
      continue;
    }
    if (len > MAX_LABEL) return undefined; // 0x40 and 0x80: extended label types, obsolete (RFC 6891 §5)
    if (pos + 1 + len > msg.length) return undefined;
    wire += len + 1;
    if (wire > MAX_NAME_WIRE) return undefined;
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
}

/** The lookup key of wire labels ("www.example.com."), as names.ts's nameKey gives for the same name. */
export function labelsKey(labels: readonly string[]): string {
  return lowerAscii(labelsToText(labels));
}
