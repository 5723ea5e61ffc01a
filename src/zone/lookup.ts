// Authoritative lookup over one zone index (RFC 1034 §4.3.2, RFC 4592 wildcards, RFC 6604 CNAME rcodes).
// Pure and synchronous: it decides what goes in each section; encoding is someone else's job.

import { Rcode, Type } from '../proto/constants.js';
import { isInZone, parentKey } from '../proto/names.js';
import type { IndexedRRset, ZoneIndex, ZoneNode } from './zone-index.js';

export interface SectionEntry {
  /** Owner name key. */
  owner: string;
  /** The node whose wire name to use when the owner is not a suffix of the question. */
  ownerNode: ZoneNode | undefined;
  rrset: IndexedRRset;
}

export type LookupKind = 'answer' | 'nodata' | 'nxdomain' | 'referral' | 'cname';

export interface LookupResult {
  kind: LookupKind;
  rcode: number;
  authoritative: boolean;
  answer: SectionEntry[];
  authority: SectionEntry[];
  additional: SectionEntry[];
  /** True when the answer came from a wildcard, so it depends on the exact question name. */
  synthesized: boolean;
  /** True when a section holds a dynamic (pool) RRset: its addresses are chosen per query, never cached per node. */
  dynamic: boolean;
}

function hasPool(entries: SectionEntry[]): boolean {
  for (const entry of entries) if (entry.rrset.pool !== undefined) return true;
  return false;
}

/** RFC 1034 recommends a bound; 16 is generous for in-zone chains and stops loops. */
const MAX_CNAME_CHAIN = 16;

/**
 * Types whose answers carry addresses of their targets in the additional section (RFC 1035 §3.3.9, §3.3.11,
 * RFC 2782, RFC 9460 §4.2): the ones knot follows. NAPTR, KX and AFSDB name hosts too, but knot adds nothing for them.
 */
const ADDITIONAL_FOR = new Set<number>([Type.NS, Type.MX, Type.SRV, Type.SVCB, Type.HTTPS]);

/** RFC 9460 §4.2, as knot does it: an SVCB or HTTPS answer also carries the RRset of its own type at the target. */
const SAME_TYPE_AT_TARGET = new Set<number>([Type.SVCB, Type.HTTPS]);

/** RFC 8482 §4.1: answer ANY with one RRset; prefer the ones a client most likely wanted. */
const ANY_PREFERENCE = [Type.A, Type.AAAA, Type.CNAME, Type.MX, Type.TXT, Type.NS, Type.SOA];

function closestEncloser(zone: ZoneIndex, name: string): ZoneNode {
  for (let key = parentKey(name); key !== undefined; key = parentKey(key)) {
    const node = zone.nodes.get(key);
    if (node) return node;
    if (key === zone.apex.key) break;
  }
  return zone.apex;
}

/**
 * Adds a target's addresses (and, for SVCB/HTTPS, its RRset of `sameType`) to the additional section, as knot 3.2
 * does: in-zone targets only, glue below a cut included; a wildcard covers a target that does not exist itself
 * (below a cut only in referrals). Where knot 3.2 differs from the RFCs edgedns keeps to them: a target named by
 * several records is added once, and a wildcard's records get the target as owner (knot leaves "*" in for SVCB).
 */
function addAddresses(zone: ZoneIndex, target: string | undefined, additional: SectionEntry[], seen: Set<string>, glue: boolean, sameType?: number): void {
  if (target === undefined || seen.has(target) || !isInZone(target, zone.apex.key)) return;
  seen.add(target);
  let node = zone.nodes.get(target);
  if (!node) {
    const enclosing = closestEncloser(zone, target);
    if (enclosing.cut && !glue) return;
    node = zone.nodes.get('*.' + enclosing.key);
    if (!node) return;
    pushAt(node, target, undefined, additional, sameType);
    return;
  }
  pushAt(node, target, node, additional, sameType);
}

function pushAt(node: ZoneNode, owner: string, ownerNode: ZoneNode | undefined, additional: SectionEntry[], sameType: number | undefined): void {
  const a = node.rrsets.get(Type.A);
  const aaaa = node.rrsets.get(Type.AAAA);
  const same = sameType === undefined ? undefined : node.rrsets.get(sameType);
  if (a) additional.push({ owner, ownerNode, rrset: a });
  if (aaaa) additional.push({ owner, ownerNode, rrset: aaaa });
  if (same) additional.push({ owner, ownerNode, rrset: same });
}

function pickAny(node: ZoneNode): IndexedRRset | undefined {
  for (const type of ANY_PREFERENCE) {
    const rrset = node.rrsets.get(type);
    if (rrset) return rrset;
  }
  let first: IndexedRRset | undefined;
  for (const rrset of node.rrsets.values()) if (!first || rrset.type < first.type) first = rrset;
  return first;
}

export function lookup(zone: ZoneIndex, qname: string, qtype: number): LookupResult {
  const answer: SectionEntry[] = [];
  const authority: SectionEntry[] = [];
  const additional: SectionEntry[] = [];
  const result = (kind: LookupKind, rcode: number, authoritative = true, synthesized = false): LookupResult => ({
    kind, rcode, authoritative, answer, authority, additional, synthesized, dynamic: hasPool(answer) || hasPool(additional),
  });
  const negative = (kind: LookupKind, rcode: number, synthesized: boolean): LookupResult => {
    authority.push({ owner: zone.apex.key, ownerNode: zone.apex, rrset: zone.negativeSoa });
    return result(kind, rcode, true, synthesized);
  };

  let name = qname;
  let synthesized = false;
  const visited = new Set<string>();
  for (let depth = 0; depth <= MAX_CNAME_CHAIN; depth++) {
    visited.add(name);
    let node = zone.nodes.get(name);
    const enclosing = node ?? closestEncloser(zone, name);

    // Below or at a zone cut we are not authoritative: refer (RFC 1034 §4.3.2 step 3b), except DS, which the
    // parent side of the cut owns (RFC 4035 §3.1.4.1).
    const cut = enclosing.cut;
    if (cut && !(node === cut && qtype === Type.DS)) {
      const ns = cut.rrsets.get(Type.NS) as IndexedRRset;
      authority.push({ owner: cut.key, ownerNode: cut, rrset: ns });
      const seen = new Set<string>();
      for (const record of ns.records) addAddresses(zone, record.target, additional, seen, true);
      return result('referral', Rcode.NOERROR, answer.length > 0, synthesized);
    }

    const owner = name;
    if (!node) {
      const wildcard = zone.nodes.get(enclosing === zone.apex && zone.apex.key === '.' ? '*.' : '*.' + enclosing.key);
      if (!wildcard) return negative('nxdomain', Rcode.NXDOMAIN, synthesized);
      node = wildcard;
      synthesized = true;
    }
    const ownerNode = node.key === name ? node : undefined;

    if (qtype === Type.ANY) {
      const picked = pickAny(node);
      if (!picked) return negative('nodata', Rcode.NOERROR, synthesized);
      answer.push({ owner, ownerNode, rrset: picked });
      return result('answer', Rcode.NOERROR, true, synthesized);
    }

    const rrset = node.rrsets.get(qtype);
    if (rrset) {
      answer.push({ owner, ownerNode, rrset });
      if (ADDITIONAL_FOR.has(qtype)) {
        const seen = new Set<string>();
        const sameType = SAME_TYPE_AT_TARGET.has(qtype) ? qtype : undefined;
        for (const record of rrset.records) addAddresses(zone, record.target, additional, seen, false, sameType);
      }
      return result('answer', Rcode.NOERROR, true, synthesized);
    }

    const cname = node.rrsets.get(Type.CNAME);
    if (!cname) return negative('nodata', Rcode.NOERROR, synthesized);
    answer.push({ owner, ownerNode, rrset: cname });
    const target = cname.records[0].target;
    // Follow the chain while it stays in this zone; outside it the resolver continues (RFC 1034 §4.3.2 step 3a)
    if (target === undefined || !isInZone(target, zone.apex.key) || visited.has(target)) {
      return result('cname', Rcode.NOERROR, true, synthesized);
    }
    name = target;
  }
  return result('cname', Rcode.NOERROR, true, synthesized);
}
