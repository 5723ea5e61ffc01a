// The real transports: UDP datagrams, TCP framing with pipelining, truncation and the TCP retry, EDNS0.

import t, { type Test } from 'tap';
import path from 'node:path';
import { Rcode, Type } from '../../src/proto/constants.js';
import { decodeMessage } from '../helpers/decode.js';
import { frame, tcpExchange, tcpPieces, udpExchange } from '../helpers/dns-socket.js';
import { startTestNode } from '../helpers/node.js';
import { buildQuery } from '../helpers/wire.js';

const server = await startTestNode({ zoneFiles: [path.resolve('zones/example.com.zone')], nodeId: 'sockets-test' });
t.teardown(() => server.close());
const port = server.dnsPort;

t.test('UDP: an answer is authoritative, echoes the ID and the question with its case', async (t) => {
  const query = buildQuery('WWW.Example.Com.', Type.A, { id: 0xbeef, flags: 0x0100 });
  const msg = decodeMessage(await udpExchange(port, query));
  t.equal(msg.header.id, 0xbeef);
  t.ok(msg.header.qr && msg.header.aa && msg.header.rd && !msg.header.ra);
  t.equal(msg.qnameRaw.toString('latin1'), query.subarray(12, 12 + msg.qnameRaw.length).toString('latin1'));
  t.ok(msg.answer.length > 0);
});

t.test('TCP: several queries on one connection are answered in order', async (t) => {
  const queries = [1, 2, 3, 4, 5].map((id) => buildQuery(id % 2 ? 'example.com.' : 'nope.example.com.', Type.SOA, { id }));
  const replies = await tcpExchange(port, queries);
  t.same(replies.map((r) => decodeMessage(r).header.id), [1, 2, 3, 4, 5]);
  t.same(replies.map((r) => decodeMessage(r).header.rcode), [Rcode.NOERROR, Rcode.NXDOMAIN, Rcode.NOERROR, Rcode.NXDOMAIN, Rcode.NOERROR]);
});

// A TCP reader must join what arrives in separate reads (RFC 7766 §8): each piece below is its own write, with a
// pause after it so the server reads it on its own.
const NS_QUERY = frame(buildQuery('example.com.', Type.NS, { id: 77 }));

function answersNs(t: Test, reply: Buffer | undefined, id: number, what: string): void {
  const msg = decodeMessage(reply ?? Buffer.alloc(0));
  t.equal(msg.header.id, id, `${what}: the reply is to query ${id}`);
  t.equal(msg.header.rcode, Rcode.NOERROR, `${what}: NOERROR`);
  t.ok(msg.answer.length > 0, `${what}: with the NS records`);
}

t.test('TCP: a query written one byte at a time is answered once its last byte arrives', async (t) => {
  const bytes = [...NS_QUERY].map((b) => Buffer.from([b]));
  const { replies, afterPiece } = await tcpPieces(port, bytes, 1);
  answersNs(t, replies[0], 77, `${bytes.length} one-byte writes`);
  t.same(afterPiece, [bytes.length], 'not before the last byte was written');
});

t.test('TCP: a query split in two at every boundary is answered', async (t) => {
  // cut 1: inside the length prefix; cut 2: between prefix and message; the rest: inside the message
  for (let cut = 1; cut < NS_QUERY.length; cut++) {
    const { replies, afterPiece } = await tcpPieces(port, [NS_QUERY.subarray(0, cut), NS_QUERY.subarray(cut)], 1);
    t.equal(replies.length, 1, `split after octet ${cut}: one reply`);
    t.equal(decodeMessage(replies[0] as Buffer).header.id, 77, `split after octet ${cut}: to the query`);
    t.same(afterPiece, [2], `split after octet ${cut}: answered after the second write`);
  }
});

t.test('TCP: two queries in one write, and a write holding the end of one and the start of the next', async (t) => {
  const second = frame(buildQuery('example.com.', Type.NS, { id: 78 }));
  const together = await tcpPieces(port, [Buffer.concat([NS_QUERY, second])], 2);
  answersNs(t, together.replies[0], 77, 'two in one write, first');
  answersNs(t, together.replies[1], 78, 'two in one write, second');

  // [first byte] [rest of the first query + the second's length prefix and 5 octets] [the rest of the second]
  const straddle = await tcpPieces(port, [NS_QUERY.subarray(0, 1), Buffer.concat([NS_QUERY.subarray(1), second.subarray(0, 7)]), second.subarray(7)], 2);
  answersNs(t, straddle.replies[0], 77, 'straddling writes, first');
  answersNs(t, straddle.replies[1], 78, 'straddling writes, second');
  t.same(straddle.afterPiece, [2, 3], 'each answered once its last octet arrived');
});

t.test('UDP without EDNS: a large RRset sets TC within 512 octets; TCP returns it whole', async (t) => {
  const udp = await udpExchange(port, buildQuery('big.example.com.', Type.TXT));
  t.ok(udp.length <= 512, `UDP reply is ${udp.length} octets`);
  const small = decodeMessage(udp);
  t.equal(small.header.tc, true, 'TC set');
  const [tcp] = await tcpExchange(port, [buildQuery('big.example.com.', Type.TXT)]);
  const whole = decodeMessage(tcp);
  t.equal(whole.header.tc, false);
  t.ok(whole.answer.length >= 15, `TCP answer has ${whole.answer.length} records`);
  t.ok(tcp.length > 512);
});

t.test('EDNS: OPT in the answer with our payload size, which caps even a client offering more', async (t) => {
  const reply = await udpExchange(port, buildQuery('big.example.com.', Type.TXT, { edns: { udpSize: 4096 } }));
  const msg = decodeMessage(reply);
  t.ok(msg.opt, 'OPT present');
  t.equal(msg.opt?.udpSize, 1232);
  t.equal(msg.opt?.version, 0);
  t.ok(reply.length <= 1232, `reply is ${reply.length} octets`);
  t.equal(msg.header.tc, true, 'the ~1.9 kB RRset does not fit 1232 octets');
  const fits = decodeMessage(await udpExchange(port, buildQuery('example.com.', Type.NS, { edns: { udpSize: 1232 } })));
  t.equal(fits.header.tc, false);
  t.ok(fits.additional.length > 0, 'glue fits with EDNS');
});

t.test('EDNS: version 1 gets BADVERS with OPT', async (t) => {
  const msg = decodeMessage(await udpExchange(port, buildQuery('example.com.', Type.A, { edns: { version: 1 } })));
  t.equal(msg.header.rcode, 0, 'low bits 0');
  t.equal(msg.opt?.extendedRcode, 1, 'extended rcode 1: BADVERS = 16');
  t.equal(msg.answer.length, 0);
});

t.test('EDNS: unknown options are ignored and DO is echoed', async (t) => {
  const msg = decodeMessage(await udpExchange(port, buildQuery('example.com.', Type.A, { edns: { dnssecOk: true, options: [{ code: 65000, data: Buffer.from('hello') }] } })));
  t.equal(msg.header.rcode, Rcode.NOERROR);
  t.equal(msg.opt?.dnssecOk, true);
  t.ok(msg.answer.length > 0);
});

t.test('malformed and unsupported messages get the right rcode', async (t) => {
  const twoQuestions = buildQuery('example.com.', Type.A);
  twoQuestions.writeUInt16BE(2, 4);
  t.equal(decodeMessage(await udpExchange(port, twoQuestions)).header.rcode, Rcode.FORMERR);
  const notify = buildQuery('example.com.', Type.SOA, { flags: 4 << 11 });
  t.equal(decodeMessage(await udpExchange(port, notify)).header.rcode, Rcode.NOTAUTH, 'NOTIFY: we are nobody\'s secondary');
  const status = buildQuery('example.com.', Type.SOA, { flags: 2 << 11 });
  t.equal(decodeMessage(await udpExchange(port, status)).header.rcode, Rcode.NOTIMP, 'STATUS is not implemented');
  t.equal(decodeMessage(await udpExchange(port, buildQuery('example.com.', Type.AXFR))).header.rcode, Rcode.NOTIMP, 'AXFR over UDP');
  const [axfr] = await tcpExchange(port, [buildQuery('example.com.', Type.AXFR)]);
  t.equal(decodeMessage(axfr).header.rcode, Rcode.NOTAUTH, 'AXFR over TCP: no transfers');
});

t.test('CHAOS: id.server and hostname.bind name the node; version.bind is refused', async (t) => {
  for (const name of ['id.server.', 'hostname.bind.']) {
    const msg = decodeMessage(await udpExchange(port, buildQuery(name, Type.TXT, { qclass: 3 })));
    t.equal(msg.header.rcode, Rcode.NOERROR);
    t.equal(msg.answer[0]?.rdata.subarray(1).toString(), 'sockets-test');
  }
  t.equal(decodeMessage(await udpExchange(port, buildQuery('version.bind.', Type.TXT, { qclass: 3 }))).header.rcode, Rcode.REFUSED);
});

t.test('metrics count queries by type, rcode, transport and address family', async (t) => {
  const text = await server.node.registry.metrics();
  t.match(text, /edgedns_dns_queries_total\{transport="udp",family="ipv4",qtype="TXT",rcode="NOERROR"\} \d+/);
  t.match(text, /edgedns_dns_queries_total\{transport="tcp",family="ipv4",qtype="SOA",rcode="NXDOMAIN"\} \d+/);
  t.match(text, /edgedns_dns_answer_seconds_bucket/);
});
