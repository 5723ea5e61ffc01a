// A zone's RRset documents for an API read: from the store, which has the latest revisions; while the store is
// unavailable, from what this node serves (memory), so reads keep working through an outage.

import { StoreUnavailableError, type Store } from '../store/store.js';
import { isRRsetDoc, rrsetDocPrefix, zoneDocId, type RRsetDoc, type ZoneDoc } from '../zone/zone-docs.js';
import { overlay } from '../zone/inline-rrsets.js';
import type { ZoneSync } from '../zone/zone-sync.js';

/** The zone's RRsets, or undefined when the zone does not exist. */
export async function readZoneDocs(store: Store, sync: ZoneSync, zone: string): Promise<RRsetDoc[] | undefined> {
  try {
    const zoneDoc = (await store.get(zoneDocId(zone))) as ZoneDoc | undefined;
    if (!zoneDoc) return undefined;
    // The RRset documents with the RRsets the zone document carries over them (zone/inline-rrsets.ts).
    return overlay(zoneDoc, await store.list(rrsetDocPrefix(zone))).filter(isRRsetDoc);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    return sync.hasZone(zone) ? sync.rrsetDocs(zone) : undefined;
  }
}

/** Whether the zone exists: in the store, or while it is unavailable, among the zones this node serves. */
export async function zoneExists(store: Store, sync: ZoneSync, zone: string): Promise<boolean> {
  try {
    return (await store.get(zoneDocId(zone))) !== undefined;
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    return sync.hasZone(zone);
  }
}
