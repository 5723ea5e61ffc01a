// The zone sync's local snapshot: written when what the node holds changed, not each time the changes feed brings
// back documents this node wrote itself (after a big import that rewrote the whole zone's snapshot once a second,
// and its garbage raised the import's peak memory); and taken back with the documents of a version still arriving
// after the served ones they replace.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { PouchStore } from '../../src/store/pouch-store.js';
import { SnapshotStore } from '../../src/store/snapshot.js';
import { Catalog } from '../../src/zone/catalog.js';
import { writeThrough } from '../../src/zone/write-through.js';
import { ZoneCopy } from '../../src/zone/zone-copy.js';
import { isZoneDoc, rrsetDocId, type RRsetDoc, type ZoneDoc } from '../../src/zone/zone-docs.js';
import { ZoneSync } from '../../src/zone/zone-sync.js';
import { parseMarker } from '../../src/zone/zone-version.js';
import { saveZone, updateRRsets } from '../../src/zone/zone-writer.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { waitFor } from '../helpers/wait-for.js';

const ZONE = 'snap.test.';

async function writes(registry: Registry): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith('edgedns_store_snapshot_writes_total{result="ok"}'));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

t.test("the snapshot is not written again when the feed only brings back this node's own writes", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-sync-snapshot-'));
  const store = await PouchStore.open(path.join(dir, 'db'));
  const registry = new Registry();
  const logger = pino({ level: 'silent' });
  const snapshot = new SnapshotStore({ dataDir: dir, logger, registry, intervalMs: 20 });
  const catalog = new Catalog();
  const sync = new ZoneSync({ store, catalog, registry, logger, snapshot });
  t.teardown(async () => {
    await sync.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await sync.start();
  const through = writeThrough(store, (docs) => sync.written(docs));
  const lines = [`$ORIGIN ${ZONE}`, '$TTL 300', '@ SOA ns1 hostmaster 1 7200 900 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.250'];
  for (let i = 0; i < 3000; i++) lines.push(`h${i} A 10.0.${i >> 8}.${i & 255}`);
  const saved = await saveZone(through, parseZoneFile(lines.join('\n') + '\n'), { replace: false });
  await waitFor(() => catalog.get(ZONE)?.soaSerial === saved.serial, { what: 'the import to be served', timeoutMs: 10_000 });
  // The feed brings the 3,004 documents back meanwhile: let it, then let the snapshot writes settle.
  let last = -1;
  await waitFor(
    async () => {
      const now = await writes(registry);
      const settled = now === last && now > 0;
      last = now;
      return settled;
    },
    { what: 'snapshot writes to settle', timeoutMs: 10_000, intervalMs: 500 },
  );
  const settled = await writes(registry);
  t.ok(settled <= 3, `the import was snapshotted in ${settled} write(s), not one per flush of the feed's echo`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(await writes(registry), settled, 'nothing changed: no more writes');

  const written = await updateRRsets(through, ZONE, () => [{ name: `h1.${ZONE}`, type: 'A', rrset: { name: `h1.${ZONE}`, type: 'A', ttl: 300, records: ['203.0.113.1'] } }]);
  await waitFor(async () => (await writes(registry)) > settled, { what: 'a change to be snapshotted', timeoutMs: 5000 });
  await snapshot.flush();
  const loaded = await snapshot.load();
  const zoneDoc = [...(loaded?.docs ?? [])].find((doc): doc is ZoneDoc => isZoneDoc(doc) && doc.name === ZONE);
  t.equal(zoneDoc?.version?.serial, written.serial, 'a change is written to the snapshot');
});

t.test('a snapshot gives back a document of a version still arriving over the served one it replaces', async (t) => {
  const v1 = parseMarker('1:0000000000001')!;
  const id = rrsetDocId(ZONE, `www.${ZONE}`, 'A');
  const doc = (records: string[], rev: string, zv: string): RRsetDoc => ({ _id: id, _rev: rev, type: 'rrset', zone: ZONE, name: `www.${ZONE}`, rrtype: 'A', ttl: 60, records, zv });
  const zoneDoc: ZoneDoc = { _id: `zone/${ZONE}`, type: 'zone', name: ZONE, createdAt: '', updatedAt: '', version: { serial: 1, hash: v1.hash } };

  const copy = new ZoneCopy(ZONE);
  copy.doc = zoneDoc;
  copy.applied = v1;
  copy.receive(id, `www.${ZONE}`, doc(['192.0.2.1'], '1-a', '1:0000000000001'), Date.now(), { asRead: true });
  copy.applyReady();
  t.equal(copy.receive(id, `www.${ZONE}`, doc(['192.0.2.2'], '2-b', '2:0000000000002'), Date.now()), 'held', 'a document of version 2 is held');

  const restored = new ZoneCopy(ZONE);
  restored.doc = zoneDoc;
  restored.applied = v1;
  for (const d of copy.snapshot()) if (!isZoneDoc(d)) restored.receive(d._id, String(d.name), d, Date.now(), { asRead: true });
  t.equal(restored.holding, 1, 'taken back from the snapshot, it is still held: the served one does not replace it');
});
