// ISC genreport's full mode (EDNS + FULL probes, see genreport-probes.ts) against edgedns serving the sample zone:
// every probe must come back "ok". knotd serving the same zone is probed too, for the comparison in the output.

import t from 'tap';
import path from 'node:path';
import { Rcode } from '../../src/proto/constants.js';
import { Type } from '../../src/proto/constants.js';
import { udpExchange } from '../helpers/dns-socket.js';
import { startKnot } from '../helpers/knotd.js';
import { buildQuery, parseHeader } from '../helpers/wire.js';
import { FULL_MODE_PROBES, judge, probeMessage, runFullMode } from './genreport-probes.js';
import { startTestNode } from '../helpers/node.js';

const ZONE_FILE = path.resolve('zones/example.com.zone');
const server = await startTestNode({ zoneFiles: [ZONE_FILE], logLevel: 'warn', flags: { geoip: 'none' } });
t.teardown(() => server.close());

t.test('the probe checker flags an unknown-opcode reply that echoes RD or CD', async (t) => {
  const probe = FULL_MODE_PROBES.find((p) => p.name === 'opcodeflg')!;
  const query = probeMessage(probe, 'example.com.', 7);
  const echoing = Buffer.from(query);
  echoing.writeUInt16BE(0x8000 | (15 << 11) | 0x0100 | 0x0010 | Rcode.NOTIMP, 2);
  t.same(judge(probe, 'example.com.', echoing), ['rd', 'cd']);
  const clean = Buffer.from(query);
  clean.writeUInt16BE(0x8000 | (15 << 11) | Rcode.NOTIMP, 2);
  t.same(judge(probe, 'example.com.', clean), []);
});

t.test(`genreport full mode: all ${FULL_MODE_PROBES.length} probes ok on edgedns`, async (t) => {
  const results = await runFullMode(server.dnsPort, 'example.com.');
  const ok = results.filter((r) => r.verdict === 'ok').length;
  t.comment(`edgedns: ${ok}/${results.length} ok`);
  for (const r of results) t.equal(r.verdict, 'ok', `${r.name}`);
});

t.test('every opcode but QUERY: the opcode echoed, RD, CD, AD, RA, AA cleared, NOTIMP, NOTAUTH or REFUSED', async (t) => {
  const allFlags = 0x0400 | 0x0100 | 0x0080 | 0x0020 | 0x0010;
  for (let opcode = 1; opcode < 16; opcode++) {
    const reply = await udpExchange(server.dnsPort, buildQuery('example.com.', Type.SOA, { flags: (opcode << 11) | allFlags }));
    const flags = reply.readUInt16BE(2);
    const header = parseHeader(reply);
    t.equal(header.opcode, opcode, `opcode ${opcode} echoed`);
    // NOTIFY: NOTAUTH as Knot without a transfer ACL; UPDATE: an unsigned update of a served zone is REFUSED (RFC 2136
    // with TSIG required, docs/rfc2136.md); the rest are not implemented
    const expected = opcode === 4 ? Rcode.NOTAUTH : opcode === 5 ? Rcode.REFUSED : Rcode.NOTIMP;
    t.equal(header.rcode, expected, `opcode ${opcode} rcode`);
    t.equal(flags & allFlags, 0, `opcode ${opcode}: no flag of a QUERY in the reply`);
  }
  const reply = await udpExchange(server.dnsPort, buildQuery('example.com.', Type.SOA, { flags: 0x0100 | 0x0010 }));
  t.equal(reply.readUInt16BE(2) & (0x0100 | 0x0010), 0x0100 | 0x0010, 'a QUERY still gets RD and CD back');
});

t.test('knotd on the same zone, for comparison', async (t) => {
  const knot = await startKnot({ zone: 'example.com.', zoneFile: ZONE_FILE });
  t.teardown(() => knot.stop());
  const results = await runFullMode(knot.port, 'example.com.');
  const failed = results.filter((r) => r.verdict !== 'ok');
  t.comment(`knotd: ${results.length - failed.length}/${results.length} ok${failed.map((r) => ` ${r.name}=${r.verdict}`).join('')}`);
  // knotd must at least answer every probe, or the comparison would say nothing
  t.notOk(results.some((r) => r.verdict === 'timeout' || r.verdict === 'malformed'), 'knotd answered every probe');
});
