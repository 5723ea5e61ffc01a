// What a zone holds when versions written apart meet (zone-reconcile.ts). Each side (a revision of the zone document:
// CouchDB's winner and the conflicting ones) sees each RRset as its inline RRset, else as the RRset document the
// store holds. Where the sides differ, a side's state that another side's history went through is superseded (that
// side saw it and changed it since); of what remains, the newest version wins, the winner's side at the same serial.
// A losing state that no side saw is contested: kept, and listed as a conflict, never dropped.

import type { StoredDoc } from '../store/store.js';
import { contentHash, hashText, MARKER_FIELD, newerThan, parseMarker, sameVersion, type Marker } from './zone-version.js';
import { docOf, entryOf, historyOf, inlineDocs, rankOf, replaces, type InlineRRset } from './inline-rrsets.js';
import { isGoneRRsetDoc, isRRsetDoc, rrsetKey, type GoneRRsetDoc, type RRsetDoc, type ZoneDoc } from './zone-docs.js';

type State = RRsetDoc | GoneRRsetDoc;

export interface Merged {
  /** The state chosen for each RRset, by "name/TYPE". */
  chosen: Map<string, State>;
  /** States that lost to another side's change of the same RRset, by "name/TYPE", each with its own version. */
  contested: Map<string, InlineRRset[]>;
}

/** What a state says, for comparing sides: its content hash, or "gone". */
function signature(doc: State | undefined): string {
  return doc && isRRsetDoc(doc) ? hashText(contentHash(doc)) : 'gone';
}

/** `sides` in order of precedence (CouchDB's winner first); `stored`: the RRset documents the store holds. */
export function mergeSides(zone: string, sides: readonly ZoneDoc[], stored: readonly StoredDoc[]): Merged {
  const real = new Map<string, State>();
  for (const doc of stored) if ((isRRsetDoc(doc) || isGoneRRsetDoc(doc)) && doc.zone === zone) real.set(rrsetKey(doc.name, doc.rrtype), doc);
  const views = sides.map((side) => {
    const view = new Map<string, State>();
    for (const doc of inlineDocs(side)) {
      const current = real.get(rrsetKey(doc.name, doc.rrtype));
      if (!current || replaces(rankOf(doc), rankOf(current))) view.set(rrsetKey(doc.name, doc.rrtype), doc);
    }
    return view;
  });
  const histories = sides.map((side) => historyOf(side));
  const keys = new Set([...real.keys(), ...views.flatMap((view) => [...view.keys()])]);
  const chosen = new Map<string, State>();
  const contested = new Map<string, InlineRRset[]>();
  for (const side of sides) {
    for (const [key, entries] of Object.entries(side.contested ?? {})) if (Array.isArray(entries)) addContested(contested, key, entries);
  }

  for (const key of keys) {
    const states = views.map((view) => view.get(key) ?? real.get(key));
    const present = states.map((doc, i) => ({ doc, side: i })).filter((s): s is { doc: State; side: number } => s.doc !== undefined);
    const first = present[0];
    if (!first) continue;
    if (present.every((s) => signature(s.doc) === signature(first.doc)) && present.length === states.length) {
      chosen.set(key, first.doc);
      continue;
    }
    // A side without the RRset at all never changed it: what another side has wins over its absence.
    // A state another differing side went through, or had before the two sides parted, is superseded by it.
    const fresh = present.filter(({ doc, side }) => {
      const marker = parseMarker(doc[MARKER_FIELD]);
      return !present.some((other) => {
        if (other.side === side || signature(other.doc) === signature(doc)) return false;
        if (marker === undefined) return true;
        const parted = ancestor(histories[side], histories[other.side]);
        return histories[other.side].some((m) => sameVersion(m, marker)) || (parted !== undefined && !newerThan(marker, parted));
      });
    });
    const candidates = fresh.length > 0 ? fresh : present;
    let best = candidates[0];
    for (const c of candidates) if (newer(c.doc, best.doc)) best = c;
    chosen.set(key, best.doc);
    const losers = candidates.filter((c) => signature(c.doc) !== signature(best.doc));
    const seen = new Set<string>();
    const lost: InlineRRset[] = [];
    for (const { doc } of losers) {
      const marker = String(doc[MARKER_FIELD] ?? '');
      if (!parseMarker(marker) || seen.has(marker)) continue;
      seen.add(marker);
      lost.push(entryOf(doc, marker)[1]);
    }
    if (lost.length > 0) addContested(contested, key, lost);
  }
  // A contested state equal to the chosen one is settled.
  for (const [key, entries] of contested) {
    const kept = entries.filter((entry) => signature(chosen.get(key)) !== signature(docOf(zone, key, entry)));
    if (kept.length === 0) contested.delete(key);
    else contested.set(key, kept);
  }
  return { chosen, contested };
}

/** The newest version two histories share: where the two sides parted (undefined when they share none). */
function ancestor(a: readonly Marker[], b: readonly Marker[]): Marker | undefined {
  let found: Marker | undefined;
  for (const m of a) if (b.some((n) => sameVersion(m, n)) && (!found || newerThan(m, found))) found = m;
  return found;
}

/** Is `a` of a later version than `b` (no version: the oldest)? */
function newer(a: State, b: State): boolean {
  const ma = parseMarker(a[MARKER_FIELD]);
  const mb = parseMarker(b[MARKER_FIELD]);
  if (!ma) return false;
  if (!mb) return true;
  return newerThan(ma, mb);
}

function addContested(contested: Map<string, InlineRRset[]>, key: string, entries: readonly InlineRRset[]): void {
  const list = contested.get(key) ?? [];
  for (const entry of entries) if (!list.some((e) => e.zv === entry.zv)) list.push(entry);
  contested.set(key, list);
}
