// A write of a few RRsets reads those RRsets and the names around them, never the whole zone (issue 13: one change
// in a 100,000-record zone), and is still checked like an import: a CNAME beside data, data under a delegation, a
// zone left without its apex NS are refused and write nothing.

import t from 'tap';
import type { Store } from '../../src/store/store.js';
import { ZoneValidationError } from '../../src/zone/validate.js';
import { rrsetDocPrefix, type ZoneDoc } from '../../src/zone/zone-docs.js';
import { INLINE_MAX_RRSETS } from '../../src/zone/inline-rrsets.js';
import { rrsetContent, zoneContent } from '../helpers/zone-content.js';
import { saveZone, updateRRsets, type RRsetWrite } from '../../src/zone/zone-writer.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { tempPouchStore } from '../helpers/temp-store.js';

const ZONE = `$ORIGIN example.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 900 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
sub NS ns.sub
ns.sub A 192.0.2.53
${Array.from({ length: 200 }, (_, i) => `h${i} A 192.0.2.${(i % 250) + 1}`).join('\n')}
`;

const store = await tempPouchStore(t, 'writer');
await saveZone(store, parseZoneFile(ZONE), { replace: false });

/** The store, counting the reads that list the whole zone. */
const wholeZoneReads = { count: 0 };
const counting: Store = Object.assign(Object.create(store) as Store, {
  list: (prefix: string) => {
    if (prefix === rrsetDocPrefix('example.test.')) wholeZoneReads.count++;
    return store.list(prefix);
  },
  get: (id: string) => store.get(id),
  getMany: (ids: string[]) => store.getMany(ids),
  bulk: (docs: Parameters<Store['bulk']>[0]) => store.bulk(docs),
});

function put(name: string, type: string, records: string[]): RRsetWrite {
  return { name, type, rrset: { name, type, ttl: 300, records } };
}

t.test('one RRset changed reads the names it touches, not the zone', async (t) => {
  wholeZoneReads.count = 0;
  const result = await updateRRsets(counting, 'example.test.', () => [put('www.example.test.', 'A', ['198.51.100.2'])]);
  t.ok(result.changed);
  t.equal(wholeZoneReads.count, 0, 'no read of the whole zone');
  t.match(await rrsetContent(store, 'example.test.', 'rrset/example.test./www.example.test./A'), { records: ['198.51.100.2'] });
});

t.test('the changed names are checked against their surroundings', async (t) => {
  const refused: [string, RRsetWrite, RegExp][] = [
    ['a CNAME beside an A', put('www.example.test.', 'CNAME', ['ns1.example.test.']), /CNAME must be alone/],
    ['data under a delegation', put('x.sub.example.test.', 'TXT', ['"hidden"']), /occluded/],
    ['data beside a delegation', put('sub.example.test.', 'TXT', ['"hidden"']), /not authoritative/],
    ['the apex NS deleted', { name: 'example.test.', type: 'NS' }, /no NS records at its apex/],
  ];
  const before = await store.get('zone/example.test.');
  for (const [what, write, message] of refused) {
    wholeZoneReads.count = 0;
    const err = await updateRRsets(counting, 'example.test.', () => [write]).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof ZoneValidationError && message.test(err.message), `${what}: refused (${(err as Error | undefined)?.message})`);
    t.equal(wholeZoneReads.count, 0, `${what}: refused without reading the whole zone`);
  }
  t.equal((await store.get('zone/example.test.'))?._rev, before?._rev, 'nothing was written');
  await updateRRsets(counting, 'example.test.', () => [put('ns.sub.example.test.', 'AAAA', ['2001:db8::53'])]);
  t.pass('glue below a delegation is allowed');
});

t.test('a new delegation is checked against the whole zone beneath it', async (t) => {
  await updateRRsets(counting, 'example.test.', () => [put('mail.deep.example.test.', 'TXT', ['"v=spf1 -all"'])]);
  wholeZoneReads.count = 0;
  const err = await updateRRsets(counting, 'example.test.', () => [put('deep.example.test.', 'NS', ['ns1.example.test.'])]).then(() => undefined, (e: unknown) => e);
  t.match((err as Error | undefined)?.message, /mail\.deep\.example\.test\. TXT: TXT below the delegation/, 'refused: the TXT already below it would be occluded');
  t.equal(wholeZoneReads.count, 1, 'a delegation moves what is authoritative below it: the zone is read whole once');
});

/**
 * The store, counting the trips a write makes to it one after another (requests sent while another is on its way
 * share its trip): each trip is a round trip to CouchDB that the write, and so its replication, waits on.
 */
function tripCounting(): { store: Store; trips: string[][] } {
  const trips: string[][] = [];
  let inFlight = 0;
  const track = <T>(what: string, request: () => Promise<T>): Promise<T> => {
    if (inFlight === 0) trips.push([]);
    trips[trips.length - 1].push(what);
    inFlight++;
    return request().finally(() => inFlight--);
  };
  const tracked: Store = Object.assign(Object.create(store) as Store, {
    list: (prefix: string) => track(`list ${prefix}`, () => store.list(prefix)),
    get: (id: string) => track(`get ${id}`, () => store.get(id)),
    getMany: (ids: string[]) => track(`getMany ${ids.join(' ')}`, () => store.getMany(ids)),
    bulk: (docs: Parameters<Store['bulk']>[0]) => track(`bulk of ${docs.length}`, () => store.bulk(docs)),
  });
  return { store: tracked, trips };
}

t.test('one RRset changed: one trip to the store before the write, whatever it has to read', async (t) => {
  for (const [what, name] of [
    ['a name below the apex', 'www.example.test.'],
    ['a name two labels down (the NS above it is read too)', 'a.b.example.test.'],
  ] as const) {
    const { store: tracked, trips } = tripCounting();
    const result = await updateRRsets(tracked, 'example.test.', () => [put(name, 'A', ['198.51.100.7'])]);
    t.ok(result.changed, `${what}: written`);
    const shown = trips.map((trip, i) => `${i + 1}: ${trip.join(', ')}`).join('\n');
    t.equal(trips.length, 2, `${what}: one trip of reads (the zone document, the SOA, the names the write touches), then the write\n${shown}`);
    t.match(trips[trips.length - 1], [/^bulk of 1$/], `${what}: one document, the zone document carrying the RRset and the SOA`);
    t.match(await rrsetContent(store, 'example.test.', `rrset/example.test./${name}/A`), { records: ['198.51.100.7'] }, `${what}: stored`);
  }
});

t.test('inline RRsets fold into their RRset documents once the zone document would carry too many', async (t) => {
  const zoneOf = async (): Promise<ZoneDoc> => (await store.get('zone/example.test.')) as ZoneDoc;
  // Whatever earlier tests left inline: folded by the write that passes the limit, like these.
  let folded = false;
  for (let i = 0; i < INLINE_MAX_RRSETS + 2 && !folded; i++) {
    const { store: tracked, trips } = tripCounting();
    const before = Object.keys((await zoneOf()).inline ?? {}).length;
    await updateRRsets(tracked, 'example.test.', () => [put(`f${i}.example.test.`, 'TXT', [`"${i}"`])]);
    const inline = Object.keys((await zoneOf()).inline ?? {});
    if (inline.length === 0) {
      folded = true;
      const bulk = trips[trips.length - 1].find((what) => what.startsWith('bulk of '));
      t.equal(bulk, `bulk of ${before + 2}`, `the fold writes every inline RRset and the new one as documents, with the zone document (${before} were inline)`);
    } else t.ok(inline.length <= INLINE_MAX_RRSETS, `write ${i}: carried inline (${inline.length} RRsets)`);
  }
  t.ok(folded, `a fold happened within ${INLINE_MAX_RRSETS + 2} writes of new RRsets`);
  for (let i = 0; i < 3; i++) {
    t.match(await store.get(`rrset/example.test./f${i}.example.test./TXT`), { records: [`"${i}"`] }, `f${i}: its RRset document holds it after the fold`);
  }
  const content = await zoneContent(store, 'example.test.');
  const soa = content.find((doc) => doc.rrtype === 'SOA');
  t.equal(Number(soa?.records[0].split(' ')[2]), (await zoneOf()).version?.serial, "the SOA document's serial is the version's after the fold");
});
