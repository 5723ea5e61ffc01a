// Additional-section processing for the record types that name hosts (RFC 9460 §4.2 for SVCB/HTTPS), checked
// against what knotd 3.2 sends for the same zone, and the query counters for SVCB and HTTPS. Where knot 3.2 strays
// from the RFCs (a target repeated once per record, "*" left as the owner of a wildcard's records) edgedns keeps
// to them; test/differential.test.ts holds everything else to knotd.

import t from 'tap';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Rcode, typeCode } from '../../src/proto/constants.js';
import { createHandler } from '../../src/dns/handler.js';
import { DnsMetrics } from '../../src/dns/metrics.js';
import { Catalog } from '../../src/zone/catalog.js';
import { parseRdataText } from '../../src/proto/rdata.js';
import { buildZoneIndex } from '../../src/zone/zone-index.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { decodeMessage, type DecodedRR } from '../helpers/decode.js';
import { buildQuery } from '../helpers/wire.js';

const ZONE = `
$ORIGIN m.example.
$TTL 300
@          SOA   ns hm 1 2 3 4 5
@          NS    ns
ns         A     192.0.2.1
t          A     192.0.2.2
t          AAAA  2001:db8::2
child      NS    glue.child
glue.child A     192.0.2.3
*.w        A     192.0.2.5
*.w        HTTPS 1 .
self       SVCB  1 .
self       A     192.0.2.9
s          SVCB  1 t alpn=h2
s          SVCB  2 t alpn=h3
alias      HTTPS 0 chained
chained    HTTPS 1 t
chained    A     192.0.2.7
toglue     SVCB  1 glue.child
mxglue     MX    10 glue.child
towild     HTTPS 1 x.w
outside    HTTPS 1 svc.example.net.
naptr      NAPTR 100 10 "a" "http+I2L" "" t
kx         KX    10 t
afsdb      AFSDB 1 t
`;

interface Case {
  qname: string;
  qtype: string;
  answer: string[];
  extra?: string[];
}

const cases: [string, Case][] = [
  ['SVCB carries its target\'s A and AAAA, once for two records naming it', { qname: 's.m.example.', qtype: 'SVCB', answer: ['s.m.example. 300 SVCB 1 t.m.example. alpn=h2', 's.m.example. 300 SVCB 2 t.m.example. alpn=h3'], extra: ['t.m.example. 300 A 192.0.2.2', 't.m.example. 300 AAAA 2001:db8::2'] }],
  ['HTTPS in AliasMode carries the HTTPS RRset and address of its target (RFC 9460 §4.2)', { qname: 'alias.m.example.', qtype: 'HTTPS', answer: ['alias.m.example. 300 HTTPS 0 chained.m.example.'], extra: ['chained.m.example. 300 A 192.0.2.7', 'chained.m.example. 300 HTTPS 1 t.m.example.'] }],
  ['ServiceMode target "." means the owner, whose addresses the client has asked for already: nothing added', { qname: 'self.m.example.', qtype: 'SVCB', answer: ['self.m.example. 300 SVCB 1 .'] }],
  ['glue below a delegation is added for an SVCB target, as knot does', { qname: 'toglue.m.example.', qtype: 'SVCB', answer: ['toglue.m.example. 300 SVCB 1 glue.child.m.example.'], extra: ['glue.child.m.example. 300 A 192.0.2.3'] }],
  ['and for an MX target, as knot does', { qname: 'mxglue.m.example.', qtype: 'MX', answer: ['mxglue.m.example. 300 MX 10 glue.child.m.example.'], extra: ['glue.child.m.example. 300 A 192.0.2.3'] }],
  ['a target covered by a wildcard gets the wildcard\'s records with the target as owner (RFC 4592)', { qname: 'towild.m.example.', qtype: 'HTTPS', answer: ['towild.m.example. 300 HTTPS 1 x.w.m.example.'], extra: ['x.w.m.example. 300 A 192.0.2.5', 'x.w.m.example. 300 HTTPS 1 .'] }],
  ['a target outside the zone adds nothing', { qname: 'outside.m.example.', qtype: 'HTTPS', answer: ['outside.m.example. 300 HTTPS 1 svc.example.net.'] }],
  ['NAPTR adds nothing, as knot', { qname: 'naptr.m.example.', qtype: 'NAPTR', answer: ['naptr.m.example. 300 NAPTR 100 10 "a" "http+I2L" "" t.m.example.'] }],
  ['KX adds nothing, as knot', { qname: 'kx.m.example.', qtype: 'KX', answer: ['kx.m.example. 300 KX 10 t.m.example.'] }],
  ['AFSDB adds nothing, as knot', { qname: 'afsdb.m.example.', qtype: 'AFSDB', answer: ['afsdb.m.example. 300 AFSDB 1 t.m.example.'] }],
];

const registry = new Registry();
const zone = parseZoneFile(ZONE, { file: 'inline' });
const catalog = new Catalog();
catalog.set(zone.name, buildZoneIndex(zone));
const handle = createHandler({ catalog, chaos: { nodeId: 'n1' }, metrics: new DnsMetrics(registry), logger: pino({ level: 'silent' }) });

function expected(line: string): string {
  const [owner, ttl, type, ...rest] = line.split(' ');
  return `${owner} ${ttl} ${type} ${parseRdataText(type, rest.join(' '), 'm.example.').wire.toString('hex')}`;
}

function shown(rr: DecodedRR): string {
  return `${rr.name} ${rr.ttl} ${rr.type} ${rr.rdata.toString('hex')}`;
}

for (const [title, c] of cases) {
  t.test(title, async (t) => {
    const msg = decodeMessage(handle(buildQuery(c.qname, typeCode(c.qtype) as number), 'udp') as Buffer);
    t.equal(msg.header.rcode, Rcode.NOERROR);
    t.same(msg.answer.map(shown).sort(), c.answer.map(expected).sort(), 'answer');
    t.same(msg.additional.map(shown).sort(), (c.extra ?? []).map(expected).sort(), 'additional');
  });
}

t.test('SVCB and HTTPS queries are counted under their own names', async (t) => {
  const text = await registry.metrics();
  t.match(text, /edgedns_dns_queries_total\{transport="udp",family="[a-z0-9]+",qtype="SVCB",rcode="NOERROR"\} [1-9]/);
  t.match(text, /edgedns_dns_queries_total\{transport="udp",family="[a-z0-9]+",qtype="HTTPS",rcode="NOERROR"\} [1-9]/);
});
