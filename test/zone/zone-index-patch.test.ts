// A change of a few names is patched into a zone's index instead of rebuilding it (issue 13). The patched index
// must be the index a fresh build of the changed zone gives: the same names (empty non-terminals made and removed
// as names come and go), the same delegations above each name, and the same answer to every question. Checked on
// random changes to random zones, and on the answers a patch must not leave stale in the answer cache.

import t from 'tap';
import { Type } from '../../src/proto/constants.js';
import { lookup, type LookupResult, type SectionEntry } from '../../src/zone/lookup.js';
import type { RRset, Zone } from '../../src/zone/model.js';
import { validateZone } from '../../src/zone/validate.js';
import { buildZoneIndex, patchZoneIndex, type ZoneIndex } from '../../src/zone/zone-index.js';

const APEX = 'example.test.';

/** A small deterministic generator (mulberry32), so a failing case can be run again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const LABELS = ['a', 'b', 'c', 'www', 'mail', '*', 'x'];

function randomName(next: () => number): string {
  const depth = 1 + Math.floor(next() * 3);
  const labels: string[] = [];
  for (let i = 0; i < depth; i++) labels.push(LABELS[Math.floor(next() * LABELS.length)]);
  // A wildcard label only leftmost.
  for (let i = 1; i < labels.length; i++) if (labels[i] === '*') labels[i] = 'w';
  return `${labels.join('.')}.${APEX}`;
}

function randomRRsets(next: () => number, name: string, serial: number): RRset[] {
  const n = Math.floor(next() * 256);
  const kind = next();
  if (kind < 0.15) return [{ name, type: 'CNAME', ttl: 300, records: [next() < 0.5 ? `www.${APEX}` : 'elsewhere.example.net.'] }];
  const out: RRset[] = [{ name, type: 'A', ttl: 300, records: [`192.0.2.${n}`, ...(next() < 0.3 ? [`198.51.100.${n}`] : [])] }];
  if (next() < 0.4) out.push({ name, type: 'AAAA', ttl: 60, records: [`2001:db8::${n.toString(16)}`] });
  if (next() < 0.3) out.push({ name, type: 'MX', ttl: 300, records: [`10 mail.${APEX}`, `20 ${randomName(next)}`] });
  if (next() < 0.3) out.push({ name, type: 'TXT', ttl: 300, records: [`"v${serial} ${n}"`] });
  return out;
}

function apexRRsets(serial: number): RRset[] {
  return [
    { name: APEX, type: 'SOA', ttl: 3600, records: [`ns1.${APEX} hostmaster.${APEX} ${serial} 7200 900 1209600 300`] },
    { name: APEX, type: 'NS', ttl: 3600, records: [`ns1.${APEX}`, `ns.sub.${APEX}`] },
    { name: APEX, type: 'MX', ttl: 3600, records: [`10 mail.${APEX}`] },
    { name: `ns1.${APEX}`, type: 'A', ttl: 3600, records: ['192.0.2.1'] },
    // A delegation with glue: patched names never include it, but lookups below it must still refer.
    { name: `sub.${APEX}`, type: 'NS', ttl: 3600, records: [`ns.sub.${APEX}`] },
    { name: `ns.sub.${APEX}`, type: 'A', ttl: 3600, records: ['192.0.2.53'] },
  ];
}

/** Owner → RRsets: the zone as a map, so a change replaces what a name has. */
function byName(rrsets: RRset[]): Map<string, RRset[]> {
  const map = new Map<string, RRset[]>();
  for (const rrset of rrsets) map.set(rrset.name, [...(map.get(rrset.name) ?? []), rrset]);
  return map;
}

function describeEntries(entries: SectionEntry[]): string[] {
  return entries.map((e) => `${e.owner} ${e.rrset.type} ${e.rrset.ttl} ${e.rrset.pool ?? e.rrset.records.map((r) => r.tail.toString('hex')).join(',')}`);
}

function describe(result: LookupResult): string {
  return JSON.stringify([result.kind, result.rcode, result.authoritative, describeEntries(result.answer), describeEntries(result.authority), describeEntries(result.additional)]);
}

function nodesOf(index: ZoneIndex): string[] {
  return [...index.nodes.values()]
    .map((node) => `${node.key} [${[...node.rrsets.values()].map((r) => r.type).sort().join(',')}] cut=${node.cut?.key ?? '-'} children=${node.children}`)
    .sort();
}

const QTYPES = [Type.A, Type.AAAA, Type.MX, Type.TXT, Type.CNAME, Type.NS, Type.SOA, Type.DS, Type.ANY];

t.test('a patched index answers every question as a fresh build of the changed zone does', async (t) => {
  let cases = 0;
  let compared = 0;
  for (let seed = 1; cases < 60 && seed < 400; seed++) {
    const next = random(seed);
    const base = byName(apexRRsets(1));
    for (let i = 0; i < 12; i++) {
      const name = randomName(next);
      if (!name.endsWith(`sub.${APEX}`)) base.set(name, randomRRsets(next, name, 1));
    }
    const zone0: Zone = { name: APEX, rrsets: [...base.values()].flat() };
    if (validateZone(zone0).length > 0) continue;

    // The change: some names get new RRsets, some lose all of theirs, some are new; and the SOA moves on.
    const changes = new Map<string, RRset[]>();
    const names = [...base.keys()].filter((n) => n !== APEX && !n.endsWith(`sub.${APEX}`) && n !== `ns1.${APEX}`);
    for (const name of names) {
      const roll = next();
      if (roll < 0.25) changes.set(name, []);
      else if (roll < 0.5) changes.set(name, randomRRsets(next, name, 2));
    }
    for (let i = 0; i < 4; i++) {
      const name = randomName(next);
      if (!name.endsWith(`sub.${APEX}`) && !base.has(name)) changes.set(name, randomRRsets(next, name, 2));
    }
    changes.set(APEX, apexRRsets(2).filter((r) => r.name === APEX));
    const after = new Map(base);
    for (const [name, rrsets] of changes) {
      if (rrsets.length > 0) after.set(name, rrsets);
      else after.delete(name);
    }
    const zone1: Zone = { name: APEX, rrsets: [...after.values()].flat() };
    if (validateZone(zone1).length > 0) continue;
    cases++;

    const patched = buildZoneIndex(zone0);
    // Answers cached before the patch must not outlive it.
    for (const node of patched.nodes.values()) node.answerCache.set(Type.A, 'stale');
    const result = patchZoneIndex(patched, APEX, changes);
    const fresh = buildZoneIndex(zone1);
    t.same(nodesOf(result), nodesOf(fresh), `seed ${seed}: the same names, empty non-terminals, cuts and child counts`);
    t.equal(result.soaSerial, 2, `seed ${seed}: the new serial`);
    t.ok([...result.nodes.values()].every((node) => !node.answerCache.has(Type.A)), `seed ${seed}: no answer cached before the patch survives it`);
    const questions = new Set([...base.keys(), ...after.keys(), ...fresh.nodes.keys(), `nothing.${APEX}`, `deep.nothing.a.${APEX}`, `q.x.${APEX}`, `q.ns.sub.${APEX}`, `sub.${APEX}`]);
    for (const qname of questions) {
      for (const qtype of QTYPES) {
        const got = describe(lookup(result, qname, qtype));
        const want = describe(lookup(fresh, qname, qtype));
        if (got !== want) t.equal(got, want, `seed ${seed}: ${qname} ${qtype}`);
        compared++;
      }
    }
  }
  t.ok(cases >= 50, `${cases} random changes checked, ${compared} questions compared`);
});

t.test('a patch that would leave the zone without its SOA changes nothing', async (t) => {
  const zone: Zone = { name: APEX, rrsets: apexRRsets(7) };
  const index = buildZoneIndex(zone);
  const names = [...index.nodes.keys()].sort();
  t.throws(() => patchZoneIndex(index, APEX, new Map([[APEX, apexRRsets(8).filter((r) => r.type === 'NS' && r.name === APEX)], [`new.${APEX}`, [{ name: `new.${APEX}`, type: 'A', ttl: 1, records: ['192.0.2.9'] }]]])), /no SOA/);
  t.same([...index.nodes.keys()].sort(), names, 'no name was added');
  t.equal(index.soaSerial, 7);
});
