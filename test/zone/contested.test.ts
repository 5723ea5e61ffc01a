// Contested RRsets (src/zone/contested.ts): listed like the store's conflicts, with what is served as the winner;
// keeping the served state drops the losers and changes nothing served; keeping a loser writes it as a new version;
// a revision that is neither is refused, naming it.

import t from 'tap';
import { UnknownRevisionError } from '../../src/errors.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import { listContested, resolveContested } from '../../src/zone/contested.js';
import { inlineRev } from '../../src/zone/inline-rrsets.js';
import { rrsetDocId, zoneDocId, type ZoneDoc } from '../../src/zone/zone-docs.js';
import { parseMarker } from '../../src/zone/zone-version.js';
import { saveZone, updateRRsets } from '../../src/zone/zone-writer.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { rrsetContent } from '../helpers/zone-content.js';
import { tempPouchStore } from '../helpers/temp-store.js';

const ZONE = 'contested.test.';
const WWW = rrsetDocId(ZONE, `www.${ZONE}`, 'A');
const LOST = '2:00000000000ab';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

async function fixture(test: TapTest): Promise<PouchStore> {
  const store = await tempPouchStore(test, 'contested');
  await saveZone(store, parseZoneFile(`$ORIGIN ${ZONE}\n$TTL 60\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\n`), { replace: false });
  await updateRRsets(store, ZONE, () => [{ name: `www.${ZONE}`, type: 'A', rrset: { name: `www.${ZONE}`, type: 'A', ttl: 60, records: ['198.51.100.1'] } }]);
  // What a merge leaves when the other side changed www too: its state, kept as contested.
  const zoneDoc = (await store.get(zoneDocId(ZONE))) as ZoneDoc;
  await store.put({ ...zoneDoc, contested: { [`www.${ZONE}/A`]: [{ ttl: 60, records: ['198.51.100.2'], zv: LOST }] } });
  return store;
}

t.test('a contested RRset is listed with what is served as the winner', async (t) => {
  const store = await fixture(t);
  const [conflict, ...more] = await listContested(store);
  t.equal(more.length, 0, 'one contested RRset');
  t.equal(conflict?.id, WWW, "listed under the RRset's id");
  t.same(conflict?.winner.doc.records, ['198.51.100.1'], 'the winner is what is served');
  t.same(conflict?.losers.map((l) => [l.rev, l.doc.records]), [[inlineRev(parseMarker(LOST)!), ['198.51.100.2']]], 'the loser with the revision to keep it by');
});

t.test('keeping the served state drops the loser and changes nothing served', async (t) => {
  const store = await fixture(t);
  const [conflict] = await listContested(store);
  const before = ((await store.get(zoneDocId(ZONE))) as ZoneDoc).version;
  const result = await resolveContested(store, WWW, conflict.winner.rev);
  t.same(result?.removed, [conflict.losers[0].rev], 'the loser is removed');
  t.same(await listContested(store), [], 'nothing is contested any more');
  t.same(((await store.get(zoneDocId(ZONE))) as ZoneDoc).version, before, 'the version (and serial) stay');
  t.same((await rrsetContent(store, ZONE, WWW))?.records, ['198.51.100.1'], 'www is what it was');
});

t.test('keeping the loser writes it as a new version', async (t) => {
  const store = await fixture(t);
  const [conflict] = await listContested(store);
  const before = ((await store.get(zoneDocId(ZONE))) as ZoneDoc).version?.serial ?? 0;
  await resolveContested(store, WWW, conflict.losers[0].rev);
  t.same(await listContested(store), [], 'nothing is contested any more');
  t.same((await rrsetContent(store, ZONE, WWW))?.records, ['198.51.100.2'], 'www is the kept state');
  t.ok((((await store.get(zoneDocId(ZONE))) as ZoneDoc).version?.serial ?? 0) > before, 'with a new serial');
});

t.test('a revision that is neither is refused, naming it', async (t) => {
  const store = await fixture(t);
  await t.rejects(resolveContested(store, WWW, '0-0000000900000000000cd'), UnknownRevisionError);
  t.equal(await resolveContested(store, rrsetDocId(ZONE, `ns1.${ZONE}`, 'A'), '1-abc'), undefined, 'an RRset that is not contested is left to the store conflicts');
  t.equal((await listContested(store)).length, 1, 'nothing was dropped');
});
