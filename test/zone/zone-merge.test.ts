// Merging the sides of a partition (src/zone/zone-merge.ts): an RRset one side changed after they parted takes that
// side's state, even when the other side's copy is older than every version that side remembers; an RRset both
// sides changed takes the newer version and keeps the other as contested; a side without the RRset never wins.

import t from 'tap';
import { entryOf, inlineRev } from '../../src/zone/inline-rrsets.js';
import { mergeSides } from '../../src/zone/zone-merge.js';
import { rrsetDocId, type RRsetDoc, type ZoneDoc } from '../../src/zone/zone-docs.js';
import { parseMarker } from '../../src/zone/zone-version.js';

const ZONE = 'merge.test.';
const hash = (n: number): string => n.toString(16).padStart(13, '0');
const marker = (serial: number, side = 0): string => `${serial}:${hash(serial * 10 + side)}`;

function rrset(name: string, address: string, zv: string): RRsetDoc {
  return { _id: rrsetDocId(ZONE, name, 'A'), _rev: '1-a', type: 'rrset', zone: ZONE, name, rrtype: 'A', ttl: 60, records: [address], zv };
}

/** A side: its zone document with a history from `from` to `to` (serials), ending on `side`'s own versions after `parted`. */
function side(n: number, parted: number, to: number, inline: RRsetDoc[]): ZoneDoc {
  const history: string[] = [];
  for (let s = Math.max(1, to - 31); s <= to; s++) history.push(marker(s, s > parted ? n : 0));
  const last = parseMarker(history[history.length - 1])!;
  return {
    _id: `zone/${ZONE}`,
    type: 'zone',
    name: ZONE,
    createdAt: '',
    updatedAt: '',
    version: { serial: last.serial, hash: last.hash },
    history,
    inline: Object.fromEntries(inline.map((doc) => entryOf(doc, String(doc.zv)))),
  };
}

const address = (doc: unknown): string | undefined => (doc as RRsetDoc | undefined)?.records?.[0];

t.test('an RRset one side changed after the sides parted takes its state, with no conflict', async (t) => {
  // Both sides parted at serial 50; `www` was last written at serial 3, long before either side's 32 remembered versions.
  const stored = [rrset('www.merge.test.', '192.0.2.1', marker(3))];
  const a = side(1, 50, 60, [rrset('mail.merge.test.', '192.0.2.10', marker(55, 1))]);
  const b = side(2, 50, 58, [rrset('www.merge.test.', '198.51.100.2', marker(57, 2))]);
  const merged = mergeSides(ZONE, [a, b], stored);
  t.equal(address(merged.chosen.get('www.merge.test./A')), '198.51.100.2', "b's change of www wins over the state a had from before they parted");
  t.equal(address(merged.chosen.get('mail.merge.test./A')), '192.0.2.10', "a's new RRset is kept; b, without it, never changed it");
  t.equal(merged.contested.size, 0, 'nothing is contested');
});

t.test('an RRset both sides changed takes the newer version and keeps the other as contested', async (t) => {
  const stored = [rrset('www.merge.test.', '192.0.2.1', marker(3))];
  const a = side(1, 50, 60, [rrset('www.merge.test.', '198.51.100.1', marker(59, 1))]);
  const b = side(2, 50, 58, [rrset('www.merge.test.', '198.51.100.2', marker(57, 2))]);
  const merged = mergeSides(ZONE, [b, a], stored);
  t.equal(address(merged.chosen.get('www.merge.test./A')), '198.51.100.1', 'the newer version wins, whichever side is CouchDB\'s winner');
  const lost = merged.contested.get('www.merge.test./A') ?? [];
  t.same(lost.map((entry) => entry.records), [['198.51.100.2']], "b's change is kept as contested");
  t.equal(inlineRev(parseMarker(lost[0]?.zv)!), inlineRev(parseMarker(marker(57, 2))!), 'under its own version (the revision it is listed with)');

  const again = mergeSides(ZONE, [{ ...a, contested: Object.fromEntries(merged.contested) }], stored);
  t.same([...again.contested.keys()], ['www.merge.test./A'], 'a later merge keeps the contested state until someone keeps one');
});
