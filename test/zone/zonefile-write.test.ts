import t from 'tap';
import type { Zone } from '../../src/zone/model.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { writeZoneFile } from '../../src/zone/zonefile-write.js';

const SOA = { name: 'example.com.', type: 'SOA', ttl: 3600, records: ['ns1.example.com. hostmaster.example.com. 1 7200 1800 1209600 300'] };
const NS = { name: 'example.com.', type: 'NS', ttl: 3600, records: ['ns1.example.com.', 'ns2.example.com.'] };

function zone(...rrsets: Zone['rrsets']): Zone {
  return { name: 'example.com.', rrsets: [SOA, NS, ...rrsets] };
}

/** The written lines with runs of blanks squeezed, for readable expectations. */
function lines(z: Zone): string[] {
  return writeZoneFile(z)
    .trimEnd()
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' '));
}

t.test('the file starts with $ORIGIN and the SOA', async (t) => {
  const out = lines(zone({ name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] }));
  t.equal(out[0], '$ORIGIN example.com.');
  t.equal(out[1], '@ 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 1800 1209600 300');
});

t.test('the SOA comes first even when the zone lists it last', async (t) => {
  const z: Zone = { name: 'example.com.', rrsets: [NS, SOA] };
  t.match(lines(z)[1], /IN SOA /);
});

t.test('owners are relative to the origin and blank when repeated', async (t) => {
  t.same(lines(zone({ name: 'www.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1', '192.0.2.2'] })).slice(2), [
    ' 3600 IN NS ns1.example.com.',
    ' 3600 IN NS ns2.example.com.',
    'www 60 IN A 192.0.2.1',
    ' 60 IN A 192.0.2.2',
  ]);
});

t.test('names are sorted in canonical order, types by number', async (t) => {
  const out = lines(
    zone(
      { name: 'z.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'b.a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'a.example.com.', type: 'TXT', ttl: 60, records: ['"x"'] },
      { name: 'a.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
    ),
  );
  t.same(out.slice(4).map((l) => l.split(' ').slice(0, 4).join(' ')), ['a 60 IN A', ' 60 IN TXT', 'b.a 60 IN A', 'z 60 IN A']);
});

t.test('unknown types are written in RFC 3597 form', async (t) => {
  t.equal(lines(zone({ name: 'x.example.com.', type: 'TYPE65280', ttl: 60, records: ['\\# 2 ABCD'] }))[4], 'x 60 IN TYPE65280 \\# 2 ABCD');
});

t.test('types stored as TYPEnnn are written with the mnemonic the codec knows', async (t) => {
  t.equal(lines(zone({ name: 'x.example.com.', type: 'SSHFP', ttl: 60, records: ['1 1 ABCD'] }))[4], 'x 60 IN SSHFP 1 1 ABCD');
});

const roundTrips: { behaviour: string; zone: Zone }[] = [
  { behaviour: 'a minimal zone survives write and parse', zone: zone() },
  {
    behaviour: 'every kind of record survives write and parse',
    zone: zone(
      { name: 'example.com.', type: 'MX', ttl: 300, records: ['10 mail.example.com.', '20 mx.example.net.'] },
      { name: 'example.com.', type: 'TXT', ttl: 300, records: ['"v=spf1 -all"', '"a \\"b\\" \\\\ ;()" "" "\\000\\255"'] },
      { name: 'example.com.', type: 'CAA', ttl: 300, records: ['0 issue "letsencrypt.org"'] },
      { name: '_sip._tcp.example.com.', type: 'SRV', ttl: 300, records: ['10 60 5060 sip.example.com.'] },
      { name: '*.apps.example.com.', type: 'A', ttl: 60, records: ['192.0.2.80'] },
      { name: 'a.b.deep.example.com.', type: 'AAAA', ttl: 60, records: ['2001:db8::1', '::ffff:192.0.2.1'] },
      { name: 'www.example.com.', type: 'CNAME', ttl: 60, records: ['Example.COM.'] },
      { name: 'ds.example.com.', type: 'NS', ttl: 60, records: ['ns.ds.example.com.'] },
      { name: 'ds.example.com.', type: 'DS', ttl: 60, records: ['60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118'] },
      { name: 'ns.ds.example.com.', type: 'A', ttl: 60, records: ['192.0.2.5'] },
      { name: 'x.example.com.', type: 'TYPE65280', ttl: 0, records: ['\\# 0', '\\# 2 ABCD'] },
      { name: 'x.example.com.', type: 'TLSA', ttl: 2147483647, records: ['3 1 1 ABCD'] },
    ),
  },
  {
    behaviour: 'owners with escaped characters survive write and parse',
    zone: zone(
      { name: 'a\\.b.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'sp\\032ace.example.com.', type: 'TXT', ttl: 60, records: ['"x"'] },
      { name: '\\@.example.com.', type: 'A', ttl: 60, records: ['192.0.2.2'] },
      { name: '\\$x.example.com.', type: 'A', ttl: 60, records: ['192.0.2.3'] },
      { name: '\\;.example.com.', type: 'A', ttl: 60, records: ['192.0.2.4'] },
    ),
  },
  {
    behaviour: 'owners that look like numbers or classes survive write and parse',
    zone: zone(
      { name: '3600.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'in.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
      { name: 'txt.example.com.', type: 'A', ttl: 60, records: ['192.0.2.1'] },
    ),
  },
];

for (const c of roundTrips) {
  t.test(c.behaviour, async (t) => {
    const once = parseZoneFile(writeZoneFile(c.zone), { file: 'written.zone' });
    t.same(once, parseZoneFile(writeZoneFile(once)), 'parse(write(z)) is a fixed point');
    t.same(
      once.rrsets.map((r) => `${r.name} ${r.type}`).sort(),
      c.zone.rrsets.map((r) => `${r.name} ${r.type}`).sort(),
    );
    for (const rrset of c.zone.rrsets) t.same(once.rrsets.find((r) => r.name === rrset.name && r.type === rrset.type), rrset);
  });
}

t.test('a parsed zone is exactly what parsing its written form gives', async (t) => {
  const parsed = parseZoneFile(
    ['$ORIGIN example.com.', '$TTL 300', '@ SOA ns1 h 1 2 3 4 5', '  NS ns1', 'z A 192.0.2.1', 'a TXT "x" y', 'a MX 1 @'].join('\n'),
  );
  t.same(parseZoneFile(writeZoneFile(parsed)), parsed);
});

t.test('the root zone is written with absolute owners', async (t) => {
  const root: Zone = {
    name: '.',
    rrsets: [
      { name: '.', type: 'SOA', ttl: 60, records: ['a.root. b.root. 1 2 3 4 5'] },
      { name: 'com.', type: 'NS', ttl: 60, records: ['a.gtld.'] },
    ],
  };
  t.match(writeZoneFile(root), /\ncom\. +60 IN NS/);
  t.same(parseZoneFile(writeZoneFile(root)), root);
});
