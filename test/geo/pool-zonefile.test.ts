// Dynamic RRsets in zone files and the model: `www 30 IN POOL default`, at any name including the apex, written
// back the same way; bad POOL lines name their line; records and a pool never share an RRset.

import t from 'tap';
import { normalizeRRset, RRsetError, validateZone } from '../../src/zone/validate.js';
import { docToRRset, rrsetToDoc } from '../../src/zone/zone-docs.js';
import { parseZoneFile, ZoneFileError } from '../../src/zone/zonefile-parse.js';
import { writeZoneFile } from '../../src/zone/zonefile-write.js';

const HEAD = `$ORIGIN example.com.
@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60
@ 3600 IN NS ns1
ns1 3600 IN A 192.0.2.1
`;

t.test('POOL makes dynamic A and AAAA RRsets, or only the types named', async (t) => {
  const zone = parseZoneFile(HEAD + '@ 30 IN POOL default\nwww 60 IN POOL web A\nv6 IN POOL web AAAA\n');
  const dynamic = zone.rrsets.filter((r) => r.pool !== undefined).map((r) => `${r.name} ${r.type} ${r.ttl} ${r.pool}`);
  t.same(dynamic, ['example.com. A 30 default', 'example.com. AAAA 30 default', 'v6.example.com. AAAA 3600 web', 'www.example.com. A 60 web']);
  t.same(validateZone(zone), [], 'a valid zone');
  const text = writeZoneFile(zone);
  t.match(text, /^\s+30 IN POOL\s+default$/m, 'A and AAAA of one pool: one line (the apex, owner left blank after the SOA)');
  t.match(text, /^www\s+60 IN POOL\s+web A$/m);
  t.same(parseZoneFile(text).rrsets, zone.rrsets, 'export reads back the same');
});

t.test('POOL lines that cannot be served are refused with their line', async (t) => {
  const bad: [string, RegExp][] = [
    ['www IN POOL\n', /line 5: POOL needs a pool name/],
    ['www IN POOL Web\n', /pool name "Web"/],
    ['www IN POOL web MX\n', /at most the types A and AAAA/],
    ['www IN A 192.0.2.9\nwww IN POOL web\n', /has A records and POOL web/],
    ['www IN POOL web\nwww IN POOL other A\n', /names two pools/],
  ];
  for (const [lines, message] of bad) t.throws(() => parseZoneFile(HEAD + lines, { file: 'z' }), ZoneFileError, lines.trim());
  for (const [lines, message] of bad) t.throws(() => parseZoneFile(HEAD + lines), message);
  const cname = parseZoneFile(HEAD + 'www IN POOL web\nwww IN CNAME ns1\n');
  t.match(validateZone(cname).map((p) => p.message).join(';'), /CNAME must be alone/, 'a pool name cannot also be a CNAME');
});

t.test('the model, the store documents and the API input carry the pool', async (t) => {
  const rrset = normalizeRRset({ name: 'www', type: 'A', ttl: 30, records: [], pool: 'default' }, 'example.com');
  t.same(rrset, { name: 'www.example.com.', type: 'A', ttl: 30, records: [], pool: 'default' });
  t.same(docToRRset(rrsetToDoc('example.com.', rrset)), rrset, 'through a store document and back');
  t.throws(() => normalizeRRset({ name: 'www', type: 'MX', ttl: 30, records: [], pool: 'default' }, 'example.com'), RRsetError);
  t.throws(() => normalizeRRset({ name: 'www', type: 'A', ttl: 30, records: ['192.0.2.1'], pool: 'default' }, 'example.com'), /cannot also have records/);
  t.throws(() => normalizeRRset({ name: 'www', type: 'A', ttl: 30, records: [], pool: 'No Such' }, 'example.com'), /pool name/);
});
