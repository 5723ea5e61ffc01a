// Serials that mean something (issue 13): an equal SOA serial on two nodes means equal zone content. Within one
// connected cluster every write makes a new version with a new serial (zone-writer.ts). Two things can still leave
// a zone's content apart from the serial it is served with, and both are repaired here by writing a new version
// whose serial is above every serial either side ever had:
//
// - two sides of a partition (or two nodes at the same moment) wrote versions of the zone; CouchDB keeps one zone
//   document as the winner and the other as a conflict, and picks a winner for each RRset on its own, so the merged
//   content may be neither side's. Every node sees the conflict on the zone document and writes the merge.
// - an RRset was written straight into the store (an operator with curl, a conflict resolved by keeping a losing
//   revision): its content changed and the serial did not. Repaired when it was done through the API (the
//   conflict route) and, for anything else, once the zone has differed from its version for a while.
//
// Nodes that repair the same zone at the same moment write the same documents (the serial and the hash follow from
// what the store holds), so the conflicts they make are between equal revisions, and are removed the next time.

import { closeBranches } from '../store/close-branches.js';
import { ConflictError, type Store } from '../store/store.js';
import { maxSerial } from './serial.js';
import type { StoredDoc } from '../store/store.js';
import { docToRRset, isRRsetDoc, isZoneDoc, rrsetDocId, rrsetDocPrefix, rrsetKey, zoneDocId, type RRsetDoc, type ZoneDoc } from './zone-docs.js';
import { entryOf, foldDocs, inlineFits, isInlineRev, nextHistory, type InlineRRset } from './inline-rrsets.js';
import { mergeSides } from './zone-merge.js';
import { addHash, contentHash, hashText, MARKER_FIELD, newerThan, parseMarker, parseVersion, sameVersion, subtractHash, versionMarker, type ZoneVersion } from './zone-version.js';
import { docSerial, inZoneQueue, withSerial, writeAll } from './zone-writer.js';

export type ReconcileResult =
  /** The zone's content is the version its zone document names, and no other version is in conflict with it. */
  | 'consistent'
  /** Versions in conflict named the same content: the losing copies were removed, the serial kept. */
  | 'cleaned'
  /** Versions written apart were merged into a new version with a serial above all of theirs. */
  | 'merged'
  /** The content had changed outside a version: a new version now names it. */
  | 'rewritten'
  /** Not asked to force it, and the content differs from the version (it may still be arriving). */
  | 'differs'
  /** Nothing to do: the zone does not exist, or has no SOA to move. */
  | 'none'
  /** A newer version is arriving (its SOA is here, its zone document not yet): repaired once it is here. */
  | 'arriving';

const ATTEMPTS = 3;

/**
 * Makes the zone's serial mean its content again. Without `force`, only when its zone document is in conflict
 * (cheap otherwise: two reads); with `force`, also when its content differs from the version it names.
 */
export function reconcileZone(store: Store, zone: string, options: { force: boolean }): Promise<ReconcileResult> {
  return inZoneQueue(zone, async () => {
    let force = options.force;
    for (let attempt = 1; ; attempt++) {
      const tried: Attempt = {};
      try {
        return await tryReconcile(store, zone, { force }, tried);
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= ATTEMPTS) throw err;
        // _bulk_docs is not atomic: the SOA of this attempt may be stored while its zone document lost to a version
        // replication brought meanwhile. Then no conflict is left to merge, but the content is no version's any more:
        // the next attempt names it. (Only then: a version still arriving by replication, its zone document here and
        // its SOA not yet, also differs from its hash for a moment, and is no reason to write another.)
        if (tried.soaMarker !== undefined && (await store.get(rrsetDocId(zone, zone, 'SOA')))?.[MARKER_FIELD] === tried.soaMarker) force = true;
      }
    }
  });
}

/** What an attempt wrote, for the retry to tell whether part of it landed. */
interface Attempt {
  /** The version marker of the SOA the attempt wrote. */
  soaMarker?: string;
}

async function tryReconcile(store: Store, zone: string, options: { force: boolean }, tried: Attempt): Promise<ReconcileResult> {
  const id = zoneDocId(zone);
  const winner = (await store.get(id)) as ZoneDoc | undefined;
  if (!winner || !isZoneDoc(winner)) return 'none';
  const losers = ((await store.conflicts?.(id)) ?? []).filter(isZoneDoc);
  const version = parseVersion(winner.version);
  const apart = losers.filter((loser) => !sameVersion(parseVersion(loser.version), version));
  const loserRevs = losers.map((loser) => String(loser._rev));
  if (apart.length === 0 && !options.force) {
    if (loserRevs.length === 0) return 'consistent';
    await closeBranches(store, id, loserRevs);
    await closeBranches(store, rrsetDocId(zone, zone, 'SOA'), await equalSoaLosers(store, zone));
    return 'cleaned';
  }

  // What the sides hold, merged (zone-merge.ts): the new version names exactly that.
  const stored = await store.list(rrsetDocPrefix(zone));
  const merged = mergeSides(zone, [winner, ...apart], stored);
  const soaId = rrsetDocId(zone, zone, 'SOA');
  const soa = merged.chosen.get(rrsetKey(zone, 'SOA'));
  if (!soa || !isRRsetDoc(soa)) return 'none';
  // An SOA document newer than every version here belongs to a version (an import, a fold) whose zone document is
  // still on its way (replication brings a version's documents in more than one batch): merging now would merge
  // half of it and make one more version. Its zone document's arrival brings the repair back. Forced (the zone has
  // differed for long, or this node's own write half landed), the repair names what is here.
  const realSoa = stored.find((doc): doc is RRsetDoc => doc._id === soaId && isRRsetDoc(doc));
  const soaMarker = parseMarker(realSoa?.[MARKER_FIELD]);
  const known = [winner, ...losers].flatMap((doc) => parseVersion(doc.version) ?? []);
  if (!options.force && soaMarker && known.length > 0 && known.every((v) => newerThan(soaMarker, v))) return 'arriving';
  let sum = 0;
  for (const doc of merged.chosen.values()) if (isRRsetDoc(doc)) sum = addHash(sum, contentHash(doc));
  const contested = Object.fromEntries(merged.contested);
  if (apart.length === 0 && version && hashText(sum) === version.hash && JSON.stringify(contested) === JSON.stringify(winner.contested ?? {})) {
    if (loserRevs.length > 0) await closeBranches(store, id, loserRevs);
    return loserRevs.length > 0 ? 'cleaned' : 'consistent';
  }

  const soaLosers = realSoa ? ((await store.conflicts?.(soaId)) ?? []).filter(isRRsetDoc) : [];
  const serials = [docSerial(soa), ...soaLosers.map(docSerial)];
  for (const doc of [winner, ...losers]) {
    const v = parseVersion(doc.version);
    if (v) serials.push(v.serial);
  }
  const serial = (maxSerial(serials) + 1) % 2 ** 32;
  const newSoa: RRsetDoc = { ...soa, records: withSerial(docToRRset(soa), serial).records };
  sum = addHash(subtractHash(sum, contentHash(soa)), contentHash(newSoa));
  // No list of changes: a node switches to this version only once its whole content matches, so two nodes that
  // still hold different winners of some RRset never serve it with the same serial.
  const next: ZoneVersion = { serial, hash: hashText(sum) };
  if (version) next.prev = versionMarker(version);
  const marker = versionMarker(next);
  // Carried by the zone document under the new version: every RRset whose state is not its RRset document's.
  const inline: Record<string, InlineRRset> = {};
  for (const [key, doc] of merged.chosen) if (isInlineRev(doc._rev) && key !== rrsetKey(zone, 'SOA')) inline[key] = entryOf(doc, marker)[1];
  inline[rrsetKey(zone, 'SOA')] = entryOf(newSoa, marker)[1];
  const zoneDoc: ZoneDoc = { ...winner, version: next, inline, history: nextHistory([winner, ...apart], next) };
  if (merged.contested.size > 0) zoneDoc.contested = contested;
  else delete zoneDoc.contested;
  const docs: StoredDoc[] = [];
  if (!inlineFits(inline)) {
    docs.push(...foldDocs(zone, inline, new Map(stored.map((doc) => [doc._id, doc])), marker).docs);
    delete zoneDoc.inline;
    tried.soaMarker = marker;
  }
  await writeAll(store, [...docs, zoneDoc]);
  await closeBranches(store, id, loserRevs);
  // Losing SOA revisions that only differ by their serial are bookkeeping of the versions just merged.
  if (realSoa) await closeBranches(store, soaId, soaLosers.filter((loser) => sameApartFromSerial(loser, realSoa)).map((loser) => String(loser._rev)));
  return apart.length > 0 ? 'merged' : 'rewritten';
}


/** The SOA's losing revisions that equal its winner (left by nodes that merged at the same moment). */
async function equalSoaLosers(store: Store, zone: string): Promise<string[]> {
  const id = rrsetDocId(zone, zone, 'SOA');
  const soa = await store.get(id);
  if (!soa || !isRRsetDoc(soa)) return [];
  const losers = ((await store.conflicts?.(id)) ?? []).filter(isRRsetDoc);
  return losers.filter((loser) => sameApartFromSerial(loser, soa) && docSerial(loser) === docSerial(soa)).map((loser) => String(loser._rev));
}

function sameApartFromSerial(a: RRsetDoc, b: RRsetDoc): boolean {
  const fields = (doc: RRsetDoc): string => {
    const parts = (doc.records[0] ?? '').split(/\s+/);
    parts[2] = '';
    return `${doc.ttl} ${parts.join(' ')}`;
  };
  return fields(a) === fields(b);
}

/**
 * How long a node lets replication settle before it repairs a zone's serial: a little more than a replication
 * round trip, plus a part that differs from node to node (from its id), so one node usually repairs first.
 */
export function reconcileDelayMs(nodeId: string): number {
  let h = 0;
  for (let i = 0; i < nodeId.length; i++) h = (Math.imul(h, 31) + nodeId.charCodeAt(i)) >>> 0;
  return 500 + (h % 1500);
}
