// Contested RRsets: both sides of a partition changed one RRset carried inline by the zone document, and the merge
// (zone-reconcile.ts) kept one. The other stays in the zone document's `contested` part and is listed with the
// store's own conflicts, in the same form, until someone keeps one of them: never dropped silently.

import { ConflictError, type Store, type StoredDoc } from '../store/store.js';
import { docOf, inlineRev, overlay } from './inline-rrsets.js';
import { UnknownRevisionError } from '../errors.js';
import { docToRRset, isRRsetDoc, isZoneDoc, rrsetDocIdOfKey, rrsetKey, ZONE_PREFIX, zoneDocId, type ZoneDoc } from './zone-docs.js';
import { parseMarker } from './zone-version.js';
import { updateRRsets } from './zone-writer.js';

export interface ContestedRevision {
  rev: string;
  doc: StoredDoc;
}

export interface Contested {
  id: string;
  winner: ContestedRevision;
  losers: ContestedRevision[];
}

function body(doc: StoredDoc): StoredDoc {
  const { _rev: _ignored, ...rest } = doc;
  return rest as StoredDoc;
}

/** Every contested RRset of every zone, as conflicts: what is served, and what lost. */
export async function listContested(store: Store): Promise<Contested[]> {
  const out: Contested[] = [];
  for (const zoneDoc of (await store.list(ZONE_PREFIX)).filter(isZoneDoc)) out.push(...(await contestedOf(store, zoneDoc)));
  return out;
}

/** The zone's contested RRsets (only `only`, a "name/TYPE" key, when given). */
async function contestedOf(store: Store, zoneDoc: ZoneDoc, only?: string): Promise<Contested[]> {
  const out: Contested[] = [];
  for (const [key, entries] of Object.entries(zoneDoc.contested ?? {})) {
    if (!Array.isArray(entries) || (only !== undefined && key !== only)) continue;
    const id = rrsetDocIdOfKey(zoneDoc.name, key);
    const real = await store.get(id);
    const [served] = overlay(zoneDoc, real ? [real] : []).filter((doc) => doc._id === id);
    const losers: ContestedRevision[] = [];
    for (const entry of entries) {
      const doc = docOf(zoneDoc.name, key, entry);
      const marker = parseMarker(entry.zv);
      if (doc && marker) losers.push({ rev: inlineRev(marker), doc: body(doc) });
    }
    if (losers.length === 0) continue;
    const winner: ContestedRevision = served ? { rev: String(served._rev), doc: body(served) } : { rev: '0-', doc: { _id: id, gone: true } };
    out.push({ id, winner, losers });
  }
  return out;
}

const ATTEMPTS = 3;

/**
 * Keeps revision `keep` of the contested RRset `id`: a losing one is written as a new version (one write, like any
 * API write); keeping what is served only drops the losers. Answers undefined when `id` is not contested.
 */
export async function resolveContested(store: Store, id: string, keep: string): Promise<{ id: string; rev: string; removed: string[] } | undefined> {
  for (const zoneDoc of (await store.list(ZONE_PREFIX)).filter(isZoneDoc)) {
    const key = Object.keys(zoneDoc.contested ?? {}).find((k) => rrsetDocIdOfKey(zoneDoc.name, k) === id);
    const [conflict] = key === undefined ? [] : await contestedOf(store, zoneDoc, key);
    if (!conflict || key === undefined) continue;
    const removed = conflict.losers.map((loser) => loser.rev).filter((rev) => rev !== keep);
    const kept = conflict.losers.find((loser) => loser.rev === keep);
    if (!kept && conflict.winner.rev !== keep) throw new UnknownRevisionError(id, keep);
    if (kept) {
      const doc = { ...kept.doc, _id: id } as StoredDoc;
      const name = String(doc.name);
      const type = String(doc.rrtype);
      const result = await updateRRsets(store, zoneDoc.name, () => [
        isRRsetDoc(doc) ? { name, type, rrset: docToRRset(doc), settles: true } : { name, type, settles: true },
      ]);
      if (!result.changed) await dropContested(store, zoneDoc.name, key);
      return { id, rev: result.revisions[rrsetKey(name, type)] ?? keep, removed };
    }
    await dropContested(store, zoneDoc.name, key);
    return { id, rev: keep, removed };
  }
  return undefined;
}

/** Writes the zone document without the contested entries of `key` (what is served stays). */
async function dropContested(store: Store, zone: string, key: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const zoneDoc = (await store.get(zoneDocId(zone))) as ZoneDoc | undefined;
    if (!zoneDoc?.contested?.[key]) return;
    const contested = { ...zoneDoc.contested };
    delete contested[key];
    const next: ZoneDoc = { ...zoneDoc, contested };
    if (Object.keys(contested).length === 0) delete next.contested;
    const [result] = await store.bulk([next]);
    if (result.error === undefined) return;
    if (result.error !== 'conflict' || attempt >= ATTEMPTS) throw new ConflictError(zoneDoc._id);
  }
}
