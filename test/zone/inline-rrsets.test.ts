// RRsets carried by the zone document (src/zone/inline-rrsets.ts): a write of a few RRsets stores one document, the
// zone document, and a node answers from it; an RRset document of an older version never takes an inline RRset's
// place (a catch-up, a full read, an edit made in the store), the same version does (a fold), and a node that
// reads the zone afresh answers the same.

import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { Type } from '../../src/proto/constants.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import { Catalog } from '../../src/zone/catalog.js';
import { inlineRev, INLINE_MAX_RRSETS, replaces } from '../../src/zone/inline-rrsets.js';
import { lookup } from '../../src/zone/lookup.js';
import { rrsetDocId, zoneDocId, type ZoneDoc } from '../../src/zone/zone-docs.js';
import { saveZone, updateRRsets } from '../../src/zone/zone-writer.js';
import { ZoneSync } from '../../src/zone/zone-sync.js';
import { parseMarker } from '../../src/zone/zone-version.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { waitFor } from '../helpers/wait-for.js';
import { tempPouchStore } from '../helpers/temp-store.js';

const ZONE = 'inline.test.';
const TEXT = ['$ORIGIN inline.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 7200 900 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.250', 'www A 192.0.2.1', ''].join('\n');

t.test('which state of an RRset wins: the newer version, the document at the same version', async (t) => {
  const m = (serial: number, hash = '0000000000001') => parseMarker(`${serial}:${hash}`);
  const inline = (serial: number) => ({ rev: inlineRev(m(serial)!), marker: m(serial) });
  const doc = (serial?: number) => ({ rev: '3-abc', marker: serial === undefined ? undefined : m(serial) });
  t.notOk(replaces(doc(4), inline(5)), 'an RRset document of an older version does not replace an inline RRset');
  t.ok(replaces(doc(5), inline(5)), 'one of the same version does (a fold writes the same content)');
  t.ok(replaces(doc(6), inline(5)), 'one of a newer version does');
  t.notOk(replaces(doc(), inline(5)), 'one without a version (an edit made in the store) does not');
  t.notOk(replaces({ rev: '4-def', marker: undefined }, inline(5)), 'nor does a deletion');
  t.ok(replaces(inline(6), doc(5)), 'an inline RRset of a newer version replaces a document');
  t.notOk(replaces(inline(5), doc(5)), 'of the same version it does not');
  t.ok(replaces(inline(5), doc()), 'an inline RRset replaces a document without a version');
  t.ok(replaces(inline(6), inline(5)), 'a newer inline RRset replaces an older one');
  t.notOk(replaces(inline(5), inline(6)), 'an older one does not replace a newer one');
  t.ok(replaces(doc(1), { rev: '2-x', marker: m(9) }), 'between two RRset documents, the store decides');
});

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

async function node(test: TapTest, store: PouchStore): Promise<{ sync: ZoneSync; catalog: Catalog }> {
  const catalog = new Catalog();
  const sync = new ZoneSync({ store, catalog, registry: new Registry(), logger: pino({ level: 'silent' }) });
  await sync.start();
  test.teardown(() => sync.stop());
  return { sync, catalog };
}

function answer(catalog: Catalog, name: string): string | undefined {
  const zone = catalog.get(ZONE);
  const rrset = zone && lookup(zone, name, Type.A).answer[0]?.rrset;
  return rrset ? [...rrset.records[0].tail.subarray(10)].join('.') : undefined;
}

const putA = (store: PouchStore, name: string, address: string) =>
  updateRRsets(store, ZONE, () => [{ name, type: 'A', rrset: { name, type: 'A', ttl: 300, records: [address] } }]);

t.test('a node answers what the zone document carries, and no older RRset document takes its place', async (t) => {
  const store = await tempPouchStore(t, 'inline');
  await saveZone(store, parseZoneFile(TEXT), { replace: false });
  const { catalog } = await node(t, store);
  await waitFor(() => answer(catalog, 'www.inline.test.') === '192.0.2.1', { what: 'the zone to be served', timeoutMs: 5000 });

  const oldDoc = await store.get(rrsetDocId(ZONE, 'www.inline.test.', 'A'));
  const written = await putA(store, 'www.inline.test.', '198.51.100.1');
  const zoneDoc = (await store.get(zoneDocId(ZONE))) as ZoneDoc;
  t.same(Object.keys(zoneDoc.inline ?? {}).sort(), ['inline.test./SOA', 'www.inline.test./A'], 'the zone document carries the RRset and the SOA');
  t.equal((await store.get(rrsetDocId(ZONE, 'www.inline.test.', 'A')))?._rev, oldDoc?._rev, 'the RRset document was not written');
  const served = await waitFor(() => answer(catalog, 'www.inline.test.') === '198.51.100.1' && catalog.get(ZONE)?.soaSerial === written.serial, {
    what: 'the node to answer the new address with the new serial',
    timeoutMs: 5000,
  });
  t.ok(served.value, `answered with serial ${written.serial}`);

  // The old RRset document written again as it was (its old version's marker): an edit made in the store, or a
  // replication bringing an old revision. The inline RRset is newer and stays.
  await store.bulk([{ ...(oldDoc as object), _id: rrsetDocId(ZONE, 'www.inline.test.', 'A'), _rev: oldDoc?._rev, touched: true }]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(answer(catalog, 'www.inline.test.'), '198.51.100.1', 'an RRset document of an older version does not replace the inline RRset');

  // A node that reads the zone afresh (a restart without a snapshot) answers the same.
  const fresh = await node(t, store);
  t.equal(answer(fresh.catalog, 'www.inline.test.'), '198.51.100.1', 'a fresh full read answers the inline RRset');
  t.equal(fresh.catalog.get(ZONE)?.soaSerial, written.serial, 'with its serial');

  // Writes of new RRsets until the zone document would carry too many: the fold writes them as RRset documents.
  let folded = false;
  for (let i = 0; i < INLINE_MAX_RRSETS + 2 && !folded; i++) {
    await putA(store, `h${i}.inline.test.`, `192.0.2.${i + 1}`);
    folded = Object.keys(((await store.get(zoneDocId(ZONE))) as ZoneDoc).inline ?? {}).length === 0;
  }
  t.ok(folded, 'the inline RRsets were folded');
  t.match(await store.get(rrsetDocId(ZONE, 'www.inline.test.', 'A')), { records: ['198.51.100.1'] }, 'the RRset document holds the inline RRset after the fold');
  const last = ((await store.get(zoneDocId(ZONE))) as ZoneDoc).version?.serial;
  for (const n of [{ catalog }, fresh, await node(t, store)]) {
    const same = await waitFor(() => answer(n.catalog, 'www.inline.test.') === '198.51.100.1' && answer(n.catalog, 'h0.inline.test.') === '192.0.2.1' && n.catalog.get(ZONE)?.soaSerial === last, {
      what: 'every node to answer the folded zone',
      timeoutMs: 5000,
    });
    t.ok(same.value, `a node answers the folded zone, serial ${last}`);
  }
});
