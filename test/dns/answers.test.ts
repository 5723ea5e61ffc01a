// Table tests of authoritative answers (RFC 1034 §4.3.2, RFC 2308, RFC 4592, RFC 6604, RFC 8482) run through the
// real handler against a zone written inline, the CoreDNS way: {qname, qtype, rcode, aa, answer, ns, extra}.

import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Rcode, typeCode, typeName } from '../../src/proto/constants.js';
import { createHandler } from '../../src/dns/handler.js';
import { DnsMetrics } from '../../src/dns/metrics.js';
import { Catalog } from '../../src/zone/catalog.js';
import { parseRdataText } from '../../src/proto/rdata.js';
import { buildZoneIndex } from '../../src/zone/zone-index.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { decodeMessage, type DecodedRR } from '../helpers/decode.js';
import { buildQuery } from '../helpers/wire.js';

const ZONE = `
$ORIGIN example.org.
$TTL 3600
@        3600 IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300
@        IN NS   ns1
@        IN NS   ns.outside.test.
@        IN MX   10 mail
@        IN A    192.0.2.1
ns1      IN A    192.0.2.53
ns1      IN AAAA 2001:db8::53
mail     IN A    192.0.2.25
www      IN CNAME web
web      IN CNAME host
host     IN A    192.0.2.80
ext      IN CNAME www.outside.test.
dangling IN CNAME missing
loop1    IN CNAME loop2
loop2    IN CNAME loop1
*.w      IN A    192.0.2.99
*.w      IN TXT  "wild"
x.y.w    IN A    192.0.2.100
*.wc     IN CNAME host
_sip._tcp IN SRV 0 5 5060 host
child    IN NS   ns.child
child    IN NS   ns.outside.test.
ns.child IN A    192.0.2.200
a.b.c    IN TXT  "deep"
`;

interface Case {
  qname: string;
  qtype: string;
  rcode: number;
  aa?: boolean;
  answer?: string[];
  ns?: string[];
  extra?: string[];
}

const NEG_SOA = 'example.org. 300 SOA ns1.example.org. hostmaster.example.org. 2024010101 7200 900 1209600 300';

const cases: [string, Case][] = [
  ['exact A at the apex', { qname: 'example.org.', qtype: 'A', rcode: Rcode.NOERROR, answer: ['example.org. 3600 A 192.0.2.1'] }],
  ['MX answer carries the exchange address as additional data', { qname: 'example.org.', qtype: 'MX', rcode: Rcode.NOERROR, answer: ['example.org. 3600 MX 10 mail.example.org.'], extra: ['mail.example.org. 3600 A 192.0.2.25'] }],
  ['NS answer carries in-zone glue only', { qname: 'example.org.', qtype: 'NS', rcode: Rcode.NOERROR, answer: ['example.org. 3600 NS ns1.example.org.', 'example.org. 3600 NS ns.outside.test.'], extra: ['ns1.example.org. 3600 A 192.0.2.53', 'ns1.example.org. 3600 AAAA 2001:db8::53'] }],
  ['NODATA has the SOA with TTL min(SOA TTL, minimum)', { qname: 'host.example.org.', qtype: 'AAAA', rcode: Rcode.NOERROR, ns: [NEG_SOA] }],
  ['NXDOMAIN has the SOA', { qname: 'nope.example.org.', qtype: 'A', rcode: Rcode.NXDOMAIN, ns: [NEG_SOA] }],
  ['mixed-case question matches', { qname: 'HoSt.ExAmPlE.oRg.', qtype: 'A', rcode: Rcode.NOERROR, answer: ['host.example.org. 3600 A 192.0.2.80'] }],
  ['CNAME chain is followed inside the zone', { qname: 'www.example.org.', qtype: 'A', rcode: Rcode.NOERROR, answer: ['www.example.org. 3600 CNAME web.example.org.', 'web.example.org. 3600 CNAME host.example.org.', 'host.example.org. 3600 A 192.0.2.80'] }],
  ['CNAME query returns the CNAME only', { qname: 'www.example.org.', qtype: 'CNAME', rcode: Rcode.NOERROR, answer: ['www.example.org. 3600 CNAME web.example.org.'] }],
  ['CNAME chain ending in NODATA has the SOA', { qname: 'www.example.org.', qtype: 'MX', rcode: Rcode.NOERROR, answer: ['www.example.org. 3600 CNAME web.example.org.', 'web.example.org. 3600 CNAME host.example.org.'], ns: [NEG_SOA] }],
  ['CNAME out of the zone stops the chase', { qname: 'ext.example.org.', qtype: 'A', rcode: Rcode.NOERROR, answer: ['ext.example.org. 3600 CNAME www.outside.test.'] }],
  ['CNAME to a missing in-zone name is NXDOMAIN (RFC 6604)', { qname: 'dangling.example.org.', qtype: 'A', rcode: Rcode.NXDOMAIN, answer: ['dangling.example.org. 3600 CNAME missing.example.org.'], ns: [NEG_SOA] }],
  ['CNAME loop ends without repeating', { qname: 'loop1.example.org.', qtype: 'A', rcode: Rcode.NOERROR, answer: ['loop1.example.org. 3600 CNAME loop2.example.org.', 'loop2.example.org. 3600 CNAME loop1.example.org.'] }],
  ['wildcard synthesizes with the question as owner', { qname: 'anything.w.example.org.', qtype: 'A', rcode: Rcode.NOERROR, answer: ['anything.w.example.org. 3600 A 192.0.2.99'] }],
  ['wildcard matches more than one label', { qname: 'a.b.w.example.org.', qtype: 'TXT', rcode: Rcode.NOERROR, answer: ['a.b.w.example.org. 3600 TXT "wild"'] }],
  ['wildcard NODATA for a type it lacks', { qname: 'q.w.example.org.', qtype: 'MX', rcode: Rcode.NOERROR, ns: [NEG_SOA] }],
  ['an empty non-terminal blocks the wildcard: NODATA', { qname: 'y.w.example.org.', qtype: 'A', rcode: Rcode.NOERROR, ns: [NEG_SOA] }],
  ['below an empty non-terminal with no wildcard: NXDOMAIN', { qname: 'z.y.w.example.org.', qtype: 'A', rcode: Rcode.NXDOMAIN, ns: [NEG_SOA] }],
  ['an empty non-terminal is NODATA', { qname: 'b.c.example.org.', qtype: 'A', rcode: Rcode.NOERROR, ns: [NEG_SOA] }],
  ['wildcard CNAME is synthesized and chased', { qname: 'foo.wc.example.org.', qtype: 'A', rcode: Rcode.NOERROR, answer: ['foo.wc.example.org. 3600 CNAME host.example.org.', 'host.example.org. 3600 A 192.0.2.80'] }],
  ['SRV answer carries the target address', { qname: '_sip._tcp.example.org.', qtype: 'SRV', rcode: Rcode.NOERROR, answer: ['_sip._tcp.example.org. 3600 SRV 0 5 5060 host.example.org.'], extra: ['host.example.org. 3600 A 192.0.2.80'] }],
  ['delegation: NS in authority, glue in additional, no AA', { qname: 'www.child.example.org.', qtype: 'A', rcode: Rcode.NOERROR, aa: false, ns: ['child.example.org. 3600 NS ns.child.example.org.', 'child.example.org. 3600 NS ns.outside.test.'], extra: ['ns.child.example.org. 3600 A 192.0.2.200'] }],
  ['the delegation point itself refers', { qname: 'child.example.org.', qtype: 'NS', rcode: Rcode.NOERROR, aa: false, ns: ['child.example.org. 3600 NS ns.child.example.org.', 'child.example.org. 3600 NS ns.outside.test.'], extra: ['ns.child.example.org. 3600 A 192.0.2.200'] }],
  ['glue names are below the cut and refer too', { qname: 'ns.child.example.org.', qtype: 'A', rcode: Rcode.NOERROR, aa: false, ns: ['child.example.org. 3600 NS ns.child.example.org.', 'child.example.org. 3600 NS ns.outside.test.'], extra: ['ns.child.example.org. 3600 A 192.0.2.200'] }],
  ['DS at the cut is answered by the parent side', { qname: 'child.example.org.', qtype: 'DS', rcode: Rcode.NOERROR, ns: [NEG_SOA] }],
  ['ANY is answered with one RRset (RFC 8482)', { qname: 'example.org.', qtype: 'ANY', rcode: Rcode.NOERROR, answer: ['example.org. 3600 A 192.0.2.1'] }],
  ['a name outside every zone is REFUSED without AA', { qname: 'example.com.', qtype: 'A', rcode: Rcode.REFUSED, aa: false }],
  ['a parent of the zone is REFUSED', { qname: 'org.', qtype: 'NS', rcode: Rcode.REFUSED, aa: false }],
];

const zone = parseZoneFile(ZONE, { file: 'inline' });
const catalog = new Catalog();
catalog.set(zone.name, buildZoneIndex(zone));
const handle = createHandler({ catalog, chaos: { nodeId: 'n1' }, metrics: new DnsMetrics(new Registry()), logger: pino({ level: 'silent' }) });

function expected(line: string): string {
  const [owner, ttl, type, ...rest] = line.split(' ');
  return `${owner} ${ttl} ${type} ${parseRdataText(type, rest.join(' '), 'example.org.').wire.toString('hex')}`;
}

function shown(rr: DecodedRR): string {
  return `${rr.name} ${rr.ttl} ${rr.type} ${rr.rdata.toString('hex')}`;
}

for (const [title, c] of cases) {
  t.test(title, async (t) => {
    const qtype = typeCode(c.qtype) as number;
    const response = handle(buildQuery(c.qname, qtype, { flags: 0x0100 }), 'udp') as Buffer;
    const msg = decodeMessage(response);
    t.equal(msg.header.rcode, c.rcode, `rcode ${msg.header.rcode}`);
    t.equal(msg.header.aa, c.aa ?? c.rcode !== Rcode.REFUSED, 'AA');
    t.equal(msg.header.ra, false, 'RA is never set');
    t.equal(msg.header.rd, true, 'RD is copied');
    t.equal(msg.qnameRaw.toString('latin1').includes(c.qname.split('.')[0]), true, 'question echoed with its case');
    t.same(msg.answer.map(shown).sort(), (c.answer ?? []).map(expected).sort(), 'answer');
    t.same(msg.authority.map(shown).sort(), (c.ns ?? []).map(expected).sort(), 'authority');
    t.same(msg.additional.map(shown).sort(), (c.extra ?? []).map(expected).sort(), 'additional');
    t.equal(typeName(msg.qtype), c.qtype);
  });
}
