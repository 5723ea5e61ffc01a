// What a zone holds in a store, as a node reads it: its RRset documents with the zone document's inline RRsets
// over them (src/zone/inline-rrsets.ts). Tests that look into a database use this, not the RRset documents alone.

import type { Store, StoredDoc } from '../../src/store/store.js';
import { overlay } from '../../src/zone/inline-rrsets.js';
import { isRRsetDoc, rrsetDocPrefix, zoneDocId, type RRsetDoc, type ZoneDoc } from '../../src/zone/zone-docs.js';

/** The zone's live RRsets (undefined zone document: the RRset documents alone). */
export async function zoneContent(store: Store, zone: string): Promise<RRsetDoc[]> {
  const zoneDoc = (await store.get(zoneDocId(zone))) as ZoneDoc | undefined;
  return overlay(zoneDoc, await store.list(rrsetDocPrefix(zone))).filter(isRRsetDoc);
}

/** One RRset as the zone holds it (undefined when it has none). */
export async function rrsetContent(store: Store, zone: string, id: string): Promise<(RRsetDoc & StoredDoc) | undefined> {
  return (await zoneContent(store, zone)).find((doc) => doc._id === id);
}
