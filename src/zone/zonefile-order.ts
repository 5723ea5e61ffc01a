// The order RRsets of a zone are kept and written in: the SOA first, then names in canonical DNS order (RFC 4034
// §6.1: compare label by label from the right, lower-cased octets, a missing label sorting first) and types by
// number. Parser and writer share it so that parse(write(zone)) gives back the same array.

import type { RRset } from './model.js';
import { lowerAscii, parseName } from '../proto/names.js';
import { rrTypeCode } from '../proto/rdata.js';

/** -1, 0, 1 comparing two names (keys or any absolute presentation text) in canonical order. */
export function compareNames(a: string, b: string): number {
  return compareLabels(reversedLabels(a), reversedLabels(b));
}

function reversedLabels(name: string): string[] {
  try {
    return parseName(name).map(lowerAscii).reverse();
  } catch {
    // Invalid names (a zone that validation will reject) still need a stable place: after every valid one.
    return ['\uffff', name];
  }
}

function compareLabels(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

function typeRank(rrset: RRset): number {
  const code = rrTypeCode(rrset.type) ?? 0x10000;
  return code === 6 ? -1 : code; // SOA leads its node, so it comes first in the file
}

/** A sorted copy: SOA first, then canonical name order, then type number. */
export function sortRRsets(rrsets: readonly RRset[]): RRset[] {
  const keyed = rrsets.map((rrset) => ({ rrset, labels: reversedLabels(rrset.name), rank: typeRank(rrset) }));
  keyed.sort((x, y) => {
    const soaX = x.rank === -1 ? 0 : 1;
    const soaY = y.rank === -1 ? 0 : 1;
    return soaX - soaY || compareLabels(x.labels, y.labels) || x.rank - y.rank;
  });
  return keyed.map((k) => k.rrset);
}
