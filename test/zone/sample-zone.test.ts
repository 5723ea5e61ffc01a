// zones/example.com.zone is the zone the project ships and other tests serve: knot must accept it, our parser must
// read it to the same data knotd serves, and it must keep the features those tests rely on.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parseRdataText } from '../../src/proto/rdata.js';
import { validateZone } from '../../src/zone/validate.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { writeZoneFile } from '../../src/zone/zonefile-write.js';
import { checkZones, startKnot } from '../helpers/knotd.js';
import { requireTool } from '../helpers/tools.js';

const ZONE_FILE = 'zones/example.com.zone';
const APEX = 'example.com.';
const text = readFileSync(ZONE_FILE, 'utf8');
const zone = parseZoneFile(text, { file: 'example.com.zone' });

function rrset(name: string, type: string) {
  return zone.rrsets.find((r) => r.name === name && r.type === type);
}

t.test('knot accepts the sample zone (knotc zone-check, warnings fatal)', async (t) => {
  await t.resolves(checkZones({ zone: APEX, zoneFile: ZONE_FILE }));
});

t.test('the sample zone parses to a valid zone', async (t) => {
  t.equal(zone.name, APEX);
  t.same(validateZone(zone), []);
});

const features: { behaviour: string; name: string; type: string; records?: number }[] = [
  { behaviour: 'an SOA', name: APEX, type: 'SOA', records: 1 },
  { behaviour: 'two apex NS', name: APEX, type: 'NS', records: 2 },
  { behaviour: 'glue A for ns1', name: 'ns1.example.com.', type: 'A' },
  { behaviour: 'glue AAAA for ns2', name: 'ns2.example.com.', type: 'AAAA' },
  { behaviour: 'an apex A', name: APEX, type: 'A' },
  { behaviour: 'an apex AAAA', name: APEX, type: 'AAAA' },
  { behaviour: 'apex MX', name: APEX, type: 'MX', records: 2 },
  { behaviour: 'an apex TXT', name: APEX, type: 'TXT' },
  { behaviour: 'apex CAA', name: APEX, type: 'CAA', records: 2 },
  { behaviour: 'a www CNAME', name: 'www.example.com.', type: 'CNAME', records: 1 },
  { behaviour: 'a mail A', name: 'mail.example.com.', type: 'A' },
  { behaviour: 'a wildcard A', name: '*.apps.example.com.', type: 'A' },
  { behaviour: 'an SRV', name: '_sip._tcp.example.com.', type: 'SRV' },
  { behaviour: 'a TXT of several strings', name: 'notes.example.com.', type: 'TXT', records: 1 },
  { behaviour: 'a delegation', name: 'sub.example.com.', type: 'NS', records: 2 },
  { behaviour: 'glue below the delegation', name: 'ns1.sub.example.com.', type: 'A' },
  { behaviour: 'a record under empty non-terminals', name: 'a.b.deep.example.com.', type: 'A' },
  { behaviour: 'a big TXT RRset', name: 'big.example.com.', type: 'TXT', records: 20 },
];

for (const f of features) {
  t.test(`the sample zone has ${f.behaviour}`, async (t) => {
    const found = rrset(f.name, f.type);
    t.ok(found, `${f.name} ${f.type}`);
    if (f.records !== undefined) t.equal(found?.records.length, f.records);
  });
}

t.test('the sample zone has empty non-terminals: b.deep and deep own nothing', async (t) => {
  t.notOk(zone.rrsets.some((r) => r.name === 'b.deep.example.com.' || r.name === 'deep.example.com.'));
});

t.test('the TXT of several strings keeps its escapes', async (t) => {
  t.same(rrset('notes.example.com.', 'TXT')?.records, ['"first string" "second" "with \\"quotes\\"" "back\\\\slash" "semi;colon" "tab\\009here" ""']);
});

t.test('the big TXT answer is over 600 octets, too big for a 512-octet UDP reply', async (t) => {
  const big = rrset('big.example.com.', 'TXT');
  const header = 12;
  const question = 'big.example.com.'.length + 1 + 4;
  // each answer RR: a 2-octet pointer to the question name, type, class, TTL, rdlength, rdata
  const answers = (big?.records ?? []).reduce((n, r) => n + 2 + 10 + parseRdataText('TXT', r).wire.length, 0);
  t.ok(answers > 600, `${answers} octets of answers`);
  t.ok(header + question + answers > 512);
});

t.test('the written sample zone is accepted by knot and parses back the same', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-sample-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const written = join(dir, 'example.com.zone');
  writeFileSync(written, writeZoneFile(zone));
  await t.resolves(checkZones({ zone: APEX, zoneFile: written }));
  t.same(parseZoneFile(readFileSync(written, 'utf8')), zone);
});

t.test('knotd serves the same rdata our parser produces for every authoritative RRset', async (t) => {
  const kdig = requireTool('kdig');
  const run = promisify(execFile);
  const server = await startKnot({ zone: APEX, zoneFile: ZONE_FILE });
  t.teardown(() => server.stop());
  // At and below the delegation knotd answers with a referral, not the records.
  const authoritative = zone.rrsets.filter((r) => !r.name.endsWith('sub.example.com.'));
  for (const r of authoritative) {
    const { stdout } = await run(kdig, ['@127.0.0.1', '-p', String(server.port), '+norec', '+tcp', '+short', '+generic', r.name, r.type]);
    const knot = stdout.trim().split('\n').map((line) => line.split(' ').slice(2).join('').toLowerCase()).sort();
    const ours = r.records.map((rec) => parseRdataText(r.type, rec).wire.toString('hex')).sort();
    t.same(knot, ours, `${r.name} ${r.type}`);
  }
});
