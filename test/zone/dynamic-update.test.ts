// RFC 2136 semantics over a zone, as tables: each prerequisite kind (§2.4, §3.2) with the rcode it fails with,
// the prescans (§3.2.1, §3.4.1), and each kind of update (§3.4.2) with the RRsets it leaves, apex and CNAME rules
// and pools included.

import t from 'tap';
import { Rcode } from '../../src/proto/constants.js';
import { parseRdataText } from '../../src/proto/rdata.js';
import type { UpdateRecord } from '../../src/proto/update-reader.js';
import { planUpdate, prescanPrerequisites, prescanUpdates, UpdateFailure } from '../../src/zone/dynamic-update.js';
import { rrsetToDoc, type RRsetDoc } from '../../src/zone/zone-docs.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { zoneRRsets, type RRsetWrite } from '../../src/zone/zone-writer.js';

const ZONE = 'example.test.';
const current = new Map<string, RRsetDoc>();
for (const rrset of parseZoneFile(`$ORIGIN example.test.
@     3600 IN SOA ns1 hostmaster 10 3600 600 86400 60
@     3600 IN NS  ns1
ns1   3600 IN A   192.0.2.53
www    300 IN A   192.0.2.1
www    300 IN A   192.0.2.2
txt    300 IN TXT "a" "b"
alias  300 IN CNAME www
geo     60 IN POOL web
`).rrsets) {
  current.set(`${rrset.name}/${rrset.type}`, rrsetToDoc(ZONE, rrset));
}

const CODES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, ANY: 255, AXFR: 252 };
const CLASSES: Record<string, number> = { IN: 1, NONE: 254, ANY: 255, CH: 3 };

/** "www ANY A" or "new IN 60 A 192.0.2.9": owner (relative), class, [ttl], type, [rdata]. */
function rec(text: string): UpdateRecord {
  const [owner, cls, ...rest] = text.split(' ') as [string, string, ...string[]];
  const ttl = /^\d+$/.test(rest[0] ?? '') ? Number(rest.shift()) : 0;
  const type = rest.shift() as string;
  const rdataText = rest.join(' ');
  const name = owner === '@' ? ZONE : owner.endsWith('.') ? owner : `${owner}.${ZONE}`;
  return { name, type: CODES[type] as number, class: CLASSES[cls] as number, ttl, rdata: rdataText ? parseRdataText(type, rdataText, ZONE).wire : Buffer.alloc(0) };
}

function plan(prerequisites: string[], updates: string[]): RRsetWrite[] | number {
  try {
    return planUpdate(ZONE, 1, zoneRRsets(current), prescanPrerequisites(ZONE, 1, prerequisites.map(rec)), prescanUpdates(ZONE, 1, updates.map(rec)));
  } catch (err) {
    if (err instanceof UpdateFailure) return err.rcode;
    throw err;
  }
}

function shown(result: RRsetWrite[] | number): string[] | number {
  if (typeof result === 'number') return result;
  return result.map((w) => `${w.name} ${w.type}${w.rrset ? ` ${w.rrset.ttl} ${w.rrset.pool !== undefined ? `pool ${w.rrset.pool}` : w.rrset.records.join(' | ')}` : ' deleted'}`);
}

t.test('prerequisites', async (t) => {
  const add = ['new IN 60 A 192.0.2.9'];
  const ok = ['new.example.test. A 60 192.0.2.9'];
  const rows: [string, string[], string[] | number][] = [
    ['name in use: yes', ['www ANY ANY'], ok],
    ['name in use: no → NXDOMAIN', ['nope ANY ANY'], Rcode.NXDOMAIN],
    ['name in use: a pool name is in use', ['geo ANY ANY'], ok],
    ['RRset exists: yes', ['www ANY A'], ok],
    ['RRset exists: no → NXRRSET', ['www ANY AAAA'], Rcode.NXRRSET],
    ['RRset exists: a pool RRset exists', ['geo ANY AAAA'], ok],
    ['name not in use: yes', ['nope NONE ANY'], ok],
    ['name not in use: no → YXDOMAIN', ['www NONE ANY'], Rcode.YXDOMAIN],
    ['RRset does not exist: yes', ['www NONE AAAA'], ok],
    ['RRset does not exist: no → YXRRSET', ['www NONE A'], Rcode.YXRRSET],
    ['RRset is exactly this (order, TTL ignored)', ['www IN A 192.0.2.2', 'www IN A 192.0.2.1'], ok],
    ['RRset is exactly this: fewer → NXRRSET', ['www IN A 192.0.2.1'], Rcode.NXRRSET],
    ['RRset is exactly this: more → NXRRSET', ['www IN A 192.0.2.1', 'www IN A 192.0.2.2', 'www IN A 192.0.2.3'], Rcode.NXRRSET],
    ['RRset is exactly this: TXT of two strings', ['txt IN TXT "a" "b"'], ok],
    ['RRset is exactly this: a pool never is', ['geo IN A 192.0.2.1'], Rcode.NXRRSET],
    ['the first failing one decides', ['www NONE A', 'nope ANY ANY'], Rcode.YXRRSET],
  ];
  for (const [what, prerequisites, expected] of rows) t.same(shown(plan(prerequisites, add)), expected, what);
});

t.test('prescans', async (t) => {
  const rows: [string, string[], string[], number][] = [
    ['a prerequisite with a TTL', ['www ANY 60 A'], [], Rcode.FORMERR],
    ['a prerequisite outside the zone', ['www.other.test. ANY A'], [], Rcode.NOTZONE],
    ['a prerequisite of class ANY with rdata', ['www ANY A 192.0.2.1'], [], Rcode.FORMERR],
    ['a prerequisite of class CH', ['www CH A 192.0.2.1'], [], Rcode.FORMERR],
    ['an update outside the zone', [], ['x.other.test. IN 60 A 192.0.2.1'], Rcode.NOTZONE],
    ['adding type ANY', [], ['x IN 60 ANY'], Rcode.FORMERR],
    ['adding AXFR', [], ['x IN 60 AXFR'], Rcode.FORMERR],
    ['class ANY with a TTL', [], ['www ANY 60 A'], Rcode.FORMERR],
    ['class ANY with rdata', [], ['www ANY A 192.0.2.1'], Rcode.FORMERR],
    ['class NONE with a TTL', [], ['www NONE 60 A 192.0.2.1'], Rcode.FORMERR],
    ['class NONE of type ANY', [], ['www NONE ANY'], Rcode.FORMERR],
    ['class CH', [], ['www CH 60 A 192.0.2.1'], Rcode.FORMERR],
  ];
  for (const [what, prerequisites, updates, rcode] of rows) t.equal(plan(prerequisites, updates), rcode, what);
  const malformed: UpdateRecord = { name: `x.${ZONE}`, type: 1, class: 1, ttl: 60, rdata: Buffer.from([1, 2, 3]) };
  const rcodeOf = (fn: () => unknown): number | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return err instanceof UpdateFailure ? err.rcode : undefined;
    }
  };
  t.equal(rcodeOf(() => prescanUpdates(ZONE, 1, [malformed])), Rcode.FORMERR, 'A rdata of three octets: FORMERR');
  const dname: UpdateRecord = { name: `x.${ZONE}`, type: 39, class: 1, ttl: 60, rdata: Buffer.from([0]) };
  t.equal(rcodeOf(() => prescanUpdates(ZONE, 1, [dname])), Rcode.REFUSED, 'a type edgedns does not serve (DNAME): REFUSED');
});

t.test('updates, in order', async (t) => {
  const rows: [string, string[], string[] | number][] = [
    ['add to a new RRset', ['new IN 60 TXT "x"'], ['new.example.test. TXT 60 "x"']],
    ['add to an RRset: the last TTL wins', ['www IN 60 A 192.0.2.3'], ['www.example.test. A 60 192.0.2.1 | 192.0.2.2 | 192.0.2.3']],
    ['add what is there: nothing to write', ['www IN 300 A 192.0.2.1'], []],
    ['add then delete the same record: nothing to write', ['new IN 60 A 192.0.2.9', 'new NONE A 192.0.2.9'], []],
    ['delete one record', ['www NONE A 192.0.2.1'], ['www.example.test. A 300 192.0.2.2']],
    ['delete the last record: the RRset goes', ['txt NONE TXT "a" "b"'], ['txt.example.test. TXT deleted']],
    ['delete a record that is not there', ['www NONE A 192.0.2.99'], []],
    ['delete an RRset', ['www ANY A'], ['www.example.test. A deleted']],
    ['delete every RRset of a name', ['alias ANY ANY'], ['alias.example.test. CNAME deleted']],
    ['the apex keeps SOA and NS', ['@ ANY ANY', '@ ANY NS', '@ ANY SOA', '@ NONE SOA ns1 hostmaster 10 3600 600 86400 60'], []],
    ['the apex keeps its last NS', ['@ NONE NS ns1.example.test.'], []],
    ['an NS added at the apex', ['@ IN 3600 NS ns2.example.test.'], ['example.test. NS 3600 ns1.example.test. | ns2.example.test.']],
    ['an SOA with a later serial replaces it', ['@ IN 3600 SOA ns1 hostmaster 11 3600 600 86400 60'], ['example.test. SOA 3600 ns1.example.test. hostmaster.example.test. 11 3600 600 86400 60']],
    ['an SOA with an earlier serial is ignored', ['@ IN 3600 SOA ns1 hostmaster 9 3600 600 86400 60'], []],
    ['a CNAME where data is: ignored', ['www IN 60 CNAME ns1'], []],
    ['data where a CNAME is: ignored', ['alias IN 60 A 192.0.2.1'], []],
    ['a CNAME replaces the CNAME', ['alias IN 60 CNAME ns1'], ['alias.example.test. CNAME 60 ns1.example.test.']],
    ['a CNAME after deleting the data', ['www ANY A', 'www IN 60 CNAME ns1'], ['www.example.test. A deleted', 'www.example.test. CNAME 60 ns1.example.test.']],
    ['a pool: deleting one of its (no) records does nothing', ['geo NONE A 192.0.2.1'], []],
    ['a pool: deleting its type deletes it', ['geo ANY A'], ['geo.example.test. A deleted']],
    ['a pool: adding a record to it is REFUSED', ['geo IN 60 A 192.0.2.1'], Rcode.REFUSED],
    ['a pool: replaced by records once deleted', ['geo ANY A', 'geo IN 60 A 192.0.2.1'], ['geo.example.test. A 60 192.0.2.1']],
  ];
  for (const [what, updates, expected] of rows) t.same(shown(plan([], updates)), expected, what);
});
