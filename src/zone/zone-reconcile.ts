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

import { ConflictError, type Store, type StoredDoc } from '../store/store.js';
import { maxSerial } from './serial.js';
import { docToRRset, isRRsetDoc, isZoneDoc, rrsetDocId, rrsetDocPrefix, zoneDocId, type RRsetDoc, type ZoneDoc } from './zone-docs.js';
import { addHash, contentHash, hashText, MARKER_FIELD, parseVersion, sameVersion, subtractHash, versionMarker, type ZoneVersion } from './zone-version.js';
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
  | 'none';

const ATTEMPTS = 3;

/**
 * Makes the zone's serial mean its content again. Without `force`, only when its zone document is in conflict
 * (cheap otherwise: two reads); with `force`, also when its content differs from the version it names.
 */
export function reconcileZone(store: Store, zone: string, options: { force: boolean }): Promise<ReconcileResult> {
  return inZoneQueue(zone, async () => {
    let force = options.force;
    for (let attempt = 1; ; attempt++) {
      try {
        return await tryReconcile(store, zone, { force });
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= ATTEMPTS) throw err;
        // _bulk_docs is not atomic: the SOA of this attempt may be stored while its zone document lost to a version
        // replication brought meanwhile. Then no conflict is left to merge, but the content is no version's any more.
        force = true;
      }
    }
  });
}

async function tryReconcile(store: Store, zone: string, options: { force: boolean }): Promise<ReconcileResult> {
  const id = zoneDocId(zone);
  const winner = (await store.get(id)) as ZoneDoc | undefined;
  if (!winner || !isZoneDoc(winner)) return 'none';
  const losers = ((await store.conflicts?.(id)) ?? []).filter(isZoneDoc);
  const version = parseVersion(winner.version);
  const apart = losers.filter((loser) => !sameVersion(parseVersion(loser.version), version));
  const closeLosers: StoredDoc[] = losers.map((loser) => ({ _id: id, _rev: loser._rev, _deleted: true }));
  if (apart.length === 0 && !options.force) {
    if (closeLosers.length === 0) return 'consistent';
    await writeAll(store, [...closeLosers, ...(await equalSoaLosers(store, zone))]);
    return 'cleaned';
  }

  // What every node serves is the store's winner of each RRset: the new version names exactly that.
  const docs = (await store.list(rrsetDocPrefix(zone))).filter((doc): doc is RRsetDoc => isRRsetDoc(doc) && doc.zone === zone);
  const soa = docs.find((doc) => doc._id === rrsetDocId(zone, zone, 'SOA'));
  if (!soa) return 'none';
  let sum = 0;
  for (const doc of docs) sum = addHash(sum, contentHash(doc));
  if (apart.length === 0 && version && hashText(sum) === version.hash) {
    if (closeLosers.length > 0) await writeAll(store, closeLosers);
    return closeLosers.length > 0 ? 'cleaned' : 'consistent';
  }

  const soaLosers = ((await store.conflicts?.(soa._id)) ?? []).filter(isRRsetDoc);
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
  newSoa[MARKER_FIELD] = versionMarker(next);
  const writes: StoredDoc[] = [newSoa, { ...winner, version: next }, ...closeLosers];
  // Losing SOA revisions that only differ by their serial are bookkeeping of the versions just merged.
  for (const loser of soaLosers) if (sameApartFromSerial(loser, soa)) writes.push({ _id: soa._id, _rev: loser._rev, _deleted: true });
  await writeAll(store, writes);
  return apart.length > 0 ? 'merged' : 'rewritten';
}

/** Deletions of the SOA's losing revisions that equal its winner (left by nodes that merged at the same moment). */
async function equalSoaLosers(store: Store, zone: string): Promise<StoredDoc[]> {
  const id = rrsetDocId(zone, zone, 'SOA');
  const soa = await store.get(id);
  if (!soa || !isRRsetDoc(soa)) return [];
  const losers = ((await store.conflicts?.(id)) ?? []).filter(isRRsetDoc);
  return losers.filter((loser) => sameApartFromSerial(loser, soa) && docSerial(loser) === docSerial(soa)).map((loser) => ({ _id: id, _rev: loser._rev, _deleted: true }));
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
