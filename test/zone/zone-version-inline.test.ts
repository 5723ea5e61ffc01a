// A write of a few RRsets carries them whole in its zone document, written first (issue 13, seven nodes: on
// pouchdb-server a replication carries a bulk's first document a round, ~1 s, ahead of the rest). A node that has
// that zone document serves the version at once, whatever order the RRset documents arrive in, and a revision of
// an RRset older than the one the zone document brought, still on its way, does not undo it.
//
// Two databases on one pouchdb-server stand for two nodes: the writer's, and the one a zone sync serves from.
// Replication is CouchDB's own (one-shot `_replicate`, restricted to some documents by `doc_ids`).

import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { Type } from '../../src/proto/constants.js';
import { CouchStore } from '../../src/store/couch-store.js';
import type { StoredDoc } from '../../src/store/store.js';
import { Catalog } from '../../src/zone/catalog.js';
import { lookup } from '../../src/zone/lookup.js';
import { isZoneDoc, rrsetDocId, zoneDocId } from '../../src/zone/zone-docs.js';
import { writeThrough } from '../../src/zone/write-through.js';
import { ZoneSync } from '../../src/zone/zone-sync.js';
import { parseVersion } from '../../src/zone/zone-version.js';
import { saveZone, updateRRsets } from '../../src/zone/zone-writer.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

const ZONE = 'inline.test.';
const MAIL = `mail.${ZONE}`;
const TEXT = ['$ORIGIN inline.test.', '$TTL 60', '@ SOA ns1 hostmaster 1 7200 1800 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.53', 'mail A 192.0.2.25', ''].join('\n');

const server = await startPouchServer({ inMemory: true });
t.teardown(() => server.destroy());

let prefixes = 0;
function newStore(): CouchStore {
  return new CouchStore({ url: server.url, prefix: `inline${++prefixes}_`, longpollMs: 1000 });
}

async function couch(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** One-shot replication as CouchDB's replicator does it. */
async function replicate(from: CouchStore, to: CouchStore): Promise<void> {
  await couch(`${server.url}_replicate`, { source: `${server.url}${from.db}`, target: `${server.url}${to.db}` });
}

/** A document's current revision with its history, as a replicator reads it to carry it. */
async function revisionOf(from: CouchStore, id: string): Promise<StoredDoc> {
  const response = await fetch(`${server.url}${from.db}/${encodeURIComponent(id)}?revs=true`);
  if (!response.ok) throw new Error(`GET ${id}: ${response.status} ${await response.text()}`);
  return (await response.json()) as StoredDoc;
}

/** Stores a revision as a replicator does (new_edits false): one document of a write arriving on its own. */
async function deliver(to: CouchStore, doc: StoredDoc): Promise<void> {
  await couch(`${server.url}${to.db}/_bulk_docs`, { new_edits: false, docs: [doc] });
}

const setMail = (address: string) => () => [{ name: MAIL, type: 'A', rrset: { name: MAIL, type: 'A', ttl: 60, records: [address] } }];

async function servingNode(t: TapTest, store: CouchStore): Promise<{ catalog: Catalog; registry: Registry; sync: ZoneSync }> {
  const catalog = new Catalog();
  const registry = new Registry();
  const sync = new ZoneSync({ store, catalog, registry, logger: pino({ level: 'silent' }), debounceMs: 5 });
  await sync.start();
  t.teardown(() => sync.stop());
  return { catalog, registry, sync };
}

/** A writer's database and a node's, holding the zone; the node serves it. */
async function writerAndNode(t: TapTest): Promise<{ writer: CouchStore; node: CouchStore; catalog: Catalog; registry: Registry; sync: ZoneSync }> {
  const writer = newStore();
  const node = newStore();
  await saveZone(writer, parseZoneFile(TEXT), { replace: false });
  await replicate(writer, node);
  const serving = await servingNode(t, node);
  await waitFor(() => mailAnswer(serving.catalog) === '192.0.2.25', { what: 'the node serves the zone', timeoutMs: 5000 });
  return { writer, node, ...serving };
}

function mailAnswer(catalog: Catalog): string | undefined {
  const zone = catalog.get(ZONE);
  const rrset = zone && lookup(zone, MAIL, Type.A).answer[0]?.rrset;
  return rrset ? [...rrset.records[0].tail.subarray(10)].join('.') : undefined;
}

async function metric(registry: Registry, name: string): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

t.test('the zone document of a small write carries its RRsets whole and is written first', async (t) => {
  const writer = newStore();
  await saveZone(writer, parseZoneFile(TEXT), { replace: false });
  const result = await updateRRsets(writer, ZONE, setMail('198.51.100.1'));
  const version = parseVersion((await writer.get(zoneDocId(ZONE)))?.version);
  t.ok(version?.docs, 'the version carries documents');
  t.same(version?.docs?.[rrsetDocId(ZONE, MAIL, 'A')]?.records, ['198.51.100.1'], 'the RRset written');
  t.match(version?.docs?.[rrsetDocId(ZONE, ZONE, 'SOA')]?.records, [new RegExp(` ${result.serial} `)], 'and the SOA with the new serial');
  const changes = (await writer.changes('0', 100)).results.map((c) => c.id);
  t.ok(changes.indexOf(zoneDocId(ZONE)) < changes.indexOf(rrsetDocId(ZONE, MAIL, 'A')), 'the zone document comes first in the changes feed');

  // 200 RRsets of 100 characters: more than a zone document should carry.
  const many = Array.from({ length: 200 }, (_, i) => ({ name: `h${i}.${ZONE}`, type: 'TXT', rrset: { name: `h${i}.${ZONE}`, type: 'TXT', ttl: 60, records: [`"${'x'.repeat(100)}"`] } }));
  await updateRRsets(writer, ZONE, () => many);
  const big = parseVersion((await writer.get(zoneDocId(ZONE)))?.version);
  t.equal(big?.docs, undefined, 'a big write carries none: nodes wait for its RRset documents');
  t.equal(Object.keys(big?.changes ?? {}).length, 201, 'and still names every RRset it wrote');
});

t.test('a node that has only the zone document of a small write serves the write; an older revision on its way does not undo it', async (t) => {
  const { writer, node, catalog, registry } = await writerAndNode(t);

  await updateRRsets(writer, ZONE, setMail('198.51.100.1'));
  const first = await revisionOf(writer, rrsetDocId(ZONE, MAIL, 'A'));
  const second = await updateRRsets(writer, ZONE, setMail('198.51.100.2'));

  // Only the zone document of the second write arrives: neither RRset document of either write is there.
  await deliver(node, await revisionOf(writer, zoneDocId(ZONE)));
  await waitFor(() => catalog.get(ZONE)?.soaSerial === second.serial, { what: 'the node serves the serial of the second write', timeoutMs: 5000 });
  t.equal(mailAnswer(catalog), '198.51.100.2', 'with its data, before any of its RRset documents arrived');
  t.equal((await node.get(rrsetDocId(ZONE, MAIL, 'A')) as { records?: string[] }).records?.[0], '192.0.2.25', 'the database still holds the old RRset');
  t.ok((await metric(registry, 'edgedns_zone_inline_rrsets_total')) >= 2, 'counted: RRsets taken from the zone document');

  // The first write's RRset, still on its way, lands now; then a new zone, to know the feed has passed it.
  await deliver(node, first);
  await saveZone(node, parseZoneFile(TEXT.replaceAll('inline.test.', 'after.test.')), { replace: false });
  await waitFor(() => catalog.get('after.test.') !== undefined, { what: 'the node serves a zone written after the old revision', timeoutMs: 5000 });
  // Held as another version's document: sampled for a second, it is not served in place of the write.
  const seen = new Set<string>();
  for (const end = Date.now() + 1000; Date.now() < end; ) {
    seen.add(`${mailAnswer(catalog)} serial ${catalog.get(ZONE)?.soaSerial}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.same([...seen], [`198.51.100.2 serial ${second.serial}`], 'the older revision did not undo the write, nor its serial');

  await replicate(writer, node);
  const zoneDoc = await node.get(zoneDocId(ZONE));
  t.ok(zoneDoc && isZoneDoc(zoneDoc), 'everything arrives');
  await waitFor(async () => (await node.get(rrsetDocId(ZONE, MAIL, 'A')) as { records?: string[] }).records?.[0] === '198.51.100.2', { what: 'the RRset document arrives', timeoutMs: 5000 });
  await saveZone(node, parseZoneFile(TEXT.replaceAll('inline.test.', 'later.test.')), { replace: false });
  await waitFor(() => catalog.get('later.test.') !== undefined, { what: 'the node serves a zone written after them', timeoutMs: 5000 });
  t.equal(mailAnswer(catalog), '198.51.100.2', 'the same answer once the RRset documents are in');
  t.equal(catalog.get(ZONE)?.soaSerial, second.serial, 'and the same serial');
});

t.test('a write on a node that serves a version ahead of its store waits for the store, and so does not lose to that version', async (t) => {
  const { writer, node, catalog, sync } = await writerAndNode(t);

  const first = await updateRRsets(writer, ZONE, setMail('198.51.100.1'));
  await deliver(node, await revisionOf(writer, zoneDocId(ZONE)));
  await waitFor(() => mailAnswer(catalog) === '198.51.100.1', { what: 'the node serves the write from its zone document', timeoutMs: 5000 });
  t.equal(await sync.storeCaughtUp(ZONE, 200), false, 'its store does not hold what it answers yet');

  // The user saw the node answer the first write, and writes again on it: as the API does, through its store.
  const onNode = writeThrough(node, (docs) => sync.written(docs), (zone) => sync.storeCaughtUp(zone));
  const second = updateRRsets(onNode, ZONE, setMail('198.51.100.2'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await replicate(writer, node);
  const result = await second;
  t.ok(result.serial > first.serial, 'the write went through once the store held the first one');
  t.equal(await sync.storeCaughtUp(ZONE, 200), true, 'and the store has caught up');
  t.same(await node.conflicts?.(rrsetDocId(ZONE, MAIL, 'A')), [], 'no conflict: the second write is on top of the first');
  await waitFor(() => mailAnswer(catalog) === '198.51.100.2', { what: 'the node serves the second write', timeoutMs: 5000 });
  t.pass('the node serves the second write');
});
