// A write to a zone is several documents in one _bulk_docs, which CouchDB applies one by one: when replication
// brings another node's version of the zone between the writer's reads and its write, part of the write lands and
// part fails with a conflict. The retry must leave the store consistent again: the zone document naming a version
// whose hash is the content stored and whose serial is the SOA's. Seen in the seven-node fault test: a serial repair
// wrote the SOA of version 8, its zone document lost to a repair from another node (version 7), and the retry found
// nothing left to merge; every node that had not written it itself held the new data back for a minute. And a repair
// that sees a version's SOA before its zone document (replication brings them in more than one batch) waits for it
// instead of merging half of it.
//
// Three databases on one pouchdb-server stand for three nodes; one-shot replications carry their documents.

import t from 'tap';
import { CouchStore } from '../../src/store/couch-store.js';
import type { Store, StoredDoc } from '../../src/store/store.js';
import { docSerial, saveZone, updateRRsets } from '../../src/zone/zone-writer.js';
import { isZoneDoc, rrsetDocId, zoneDocId, type RRsetDoc } from '../../src/zone/zone-docs.js';
import { reconcileZone } from '../../src/zone/zone-reconcile.js';
import { addHash, contentHash, hashText, MARKER_FIELD, parseVersion, versionMarker } from '../../src/zone/zone-version.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { rrsetContent, zoneContent } from '../helpers/zone-content.js';

const ZONE = 'race.test.';
const TEXT = ['$ORIGIN race.test.', '$TTL 60', '@ SOA ns1 hostmaster 1 7200 1800 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.53', 'mail A 192.0.2.25', 'www A 192.0.2.80', ''].join('\n');

const server = await startPouchServer({ inMemory: true });
t.teardown(() => server.destroy());

let prefixes = 0;
function newStore(): CouchStore {
  return new CouchStore({ url: server.url, prefix: `race${++prefixes}_` });
}

/** One-shot replication, as CouchDB's replicator does it, from one store's database to another's. */
async function replicate(from: CouchStore, to: CouchStore): Promise<void> {
  const response = await fetch(`${server.url}_replicate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ source: `${server.url}${from.db}`, target: `${server.url}${to.db}` }),
  });
  if (!response.ok) throw new Error(`replication ${from.db} → ${to.db}: ${response.status} ${await response.text()}`);
}

/** The zone as the store holds it, and whether it is what its zone document says. */
async function consistency(store: Store): Promise<{ serial: number; version: string; soaMarker: unknown; hashMatches: boolean; conflicts: number }> {
  const zoneDoc = await store.get(zoneDocId(ZONE));
  if (!zoneDoc || !isZoneDoc(zoneDoc)) throw new Error('no zone document');
  const version = parseVersion(zoneDoc.version);
  if (!version) throw new Error('the zone document names no version');
  const docs = await zoneContent(store, ZONE);
  let sum = 0;
  for (const doc of docs) sum = addHash(sum, contentHash(doc));
  const soa = docs.find((d) => d._id === rrsetDocId(ZONE, ZONE, 'SOA')) as RRsetDoc;
  return {
    serial: docSerial(soa),
    version: versionMarker(version),
    soaMarker: soa[MARKER_FIELD],
    hashMatches: hashText(sum) === version.hash && docSerial(soa) === version.serial,
    conflicts: ((await store.conflicts?.(zoneDocId(ZONE))) ?? []).length,
  };
}

/** A store whose first `list` (or `bulk`) lets `arrive` happen first: replication landing between reads and write. */
function arrivingBefore(store: CouchStore, method: 'list' | 'bulk', arrive: () => Promise<void>): Store {
  let pending = true;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === method) {
        return async (...args: unknown[]) => {
          if (pending) {
            pending = false;
            await arrive();
          }
          return (target[method] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const put = (store: Store, name: string, address: string) =>
  updateRRsets(store, ZONE, () => [{ name: `${name}.${ZONE}`, type: 'A', rrset: { name: `${name}.${ZONE}`, type: 'A', ttl: 60, records: [address] } }]);

/** Three stores holding one zone; a and b then write apart, and c and a receive both: the zone is in conflict there. */
async function apart(): Promise<[CouchStore, CouchStore, CouchStore]> {
  const stores: [CouchStore, CouchStore, CouchStore] = [newStore(), newStore(), newStore()];
  const [a, b, c] = stores;
  await saveZone(a, parseZoneFile(TEXT), { replace: false });
  await replicate(a, b);
  await replicate(a, c);
  await put(a, 'mail', '198.51.100.1');
  await put(b, 'www', '198.51.100.2');
  for (const [from, to] of [[a, c], [b, c], [b, a]] as const) await replicate(from, to);
  return stores;
}

t.test('a serial repair whose zone document loses to a repair arriving meanwhile leaves the zone consistent', async (t) => {
  const [a, , c] = await apart();
  t.equal(await reconcileZone(c, ZONE, { force: false }), 'merged', 'c repairs first');
  t.ok((await consistency(c)).hashMatches, "c's repair is consistent");
  // a reads its zone document, then c's repair arrives, then a reads the RRsets (the SOA now c's) and writes.
  const racing = arrivingBefore(a, 'list', () => replicate(c, a));
  const result = await reconcileZone(racing, ZONE, { force: false });
  const after = await consistency(a);
  t.ok(after.hashMatches, `a's zone document names what a holds (${JSON.stringify(after)}, repair said ${result})`);
  t.equal(after.soaMarker, after.version, "the SOA belongs to the zone document's version");
  t.equal(after.conflicts, 0, 'no version left in conflict');
});

t.test('a serial repair whose SOA lands while its zone document conflicts names what landed', async (t) => {
  const [a] = await apart();
  // Between a's reads and its write, something else writes the zone document (and only it): a's SOA lands, its
  // zone document does not.
  const racing = arrivingBefore(a, 'bulk', async () => {
    const doc = await a.get(zoneDocId(ZONE));
    await a.put({ ...(doc as StoredDoc), updatedAt: new Date().toISOString() });
  });
  const result = await reconcileZone(racing, ZONE, { force: false });
  const after = await consistency(a);
  t.match(result, /^(merged|rewritten)$/, `the retry writes a version naming the content that is there now (${result})`);
  t.ok(after.hashMatches, `a's zone document names what a holds (${JSON.stringify(after)})`);
  t.equal(after.soaMarker, after.version, "the SOA belongs to the zone document's version");
});

t.test('an RRset write whose SOA and zone document conflict with a version arriving meanwhile leaves the zone consistent', async (t) => {
  const a = newStore();
  const b = newStore();
  await saveZone(a, parseZoneFile(TEXT), { replace: false });
  await replicate(a, b);
  await put(b, 'www', '198.51.100.2');
  // b's write reaches a between a's reads and its write: a's new RRset lands, its SOA and zone document conflict.
  const racing = arrivingBefore(a, 'bulk', () => replicate(b, a));
  const written = await put(racing, 'ftp', '198.51.100.9');
  const after = await consistency(a);
  t.ok(after.hashMatches, `a's zone document names what a holds (${JSON.stringify(after)})`);
  t.equal(after.serial, written.serial, 'the serial the write returned is the one stored');
  t.equal(after.soaMarker, after.version, "the SOA belongs to the zone document's version");
  t.equal(after.conflicts, 0, 'no version in conflict');
  for (const [name, address] of [['ftp', '198.51.100.9'], ['www', '198.51.100.2']]) {
    const doc = await rrsetContent(a, ZONE, rrsetDocId(ZONE, `${name}.${ZONE}`, 'A'));
    t.same(doc?.records, [address], `${name} is stored`);
  }
});
