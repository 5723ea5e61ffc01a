import t from 'tap';
import { Rcode, Type } from '../../src/proto/constants.js';
import { readQuery } from '../../src/proto/query-reader.js';
import { buildQuery } from '../helpers/wire.js';

t.test('a plain query yields the lower-case name, type, class and question end', async (t) => {
  const msg = buildQuery('WwW.Example.COM.', Type.AAAA, { id: 7 });
  const read = readQuery(msg);
  t.ok('query' in read);
  if (!('query' in read)) return;
  t.equal(read.query.id, 7);
  t.equal(read.query.qname, 'www.example.com.');
  t.equal(read.query.qtype, Type.AAAA);
  t.equal(read.query.qclass, 1);
  t.equal(read.query.questionEnd, msg.length);
  t.equal(read.query.qnameWireLength, 17);
  t.equal(read.query.edns, undefined);
});

t.test('names with odd octets become escaped keys', async (t) => {
  const read = readQuery(buildQuery('a\\.b.c\\032d.example.', Type.A));
  t.ok('query' in read && read.query.qname === 'a\\.b.c\\032d.example.');
});

t.test('the root name reads as "."', async (t) => {
  const read = readQuery(buildQuery('.', Type.NS));
  t.ok('query' in read && read.query.qname === '.');
});

t.test('EDNS: payload size, version, DO and client subnet are read', async (t) => {
  const ecs = Buffer.from([0, 1, 24, 0, 192, 0, 2]);
  const read = readQuery(buildQuery('example.com.', Type.A, { edns: { udpSize: 4096, dnssecOk: true, options: [{ code: 8, data: ecs }, { code: 65001, data: Buffer.from('x') }] } }));
  t.ok('query' in read);
  if (!('query' in read)) return;
  t.same(read.query.edns && { ...read.query.edns, ecs: undefined }, { udpSize: 4096, version: 0, dnssecOk: true, ecs: undefined });
  t.equal(read.query.edns?.ecs?.sourcePrefix, 24);
  t.same([...(read.query.edns?.ecs?.address ?? [])], [192, 0, 2]);
});

const formerr: [string, Buffer][] = [
  ['no question', (() => { const m = buildQuery('a.', 1); m.writeUInt16BE(0, 4); return m.subarray(0, 12); })()],
  ['two questions', (() => { const m = buildQuery('a.', 1); m.writeUInt16BE(2, 4); return m; })()],
  ['question cut short', buildQuery('example.com.', 1).subarray(0, 20)],
  ['compression pointer in the question', Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1])],
  ['label type 0x40', Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0x61, 0, 0, 1, 0, 1])],
  ['65,535 additional records claimed, none present', (() => { const m = buildQuery('a.', 1); m.writeUInt16BE(65535, 10); return m; })()],
  ['two OPT records', (() => { const m = buildQuery('a.', 1, { edns: {} }); const opt = m.subarray(m.length - 11); const two = Buffer.concat([m, opt]); two.writeUInt16BE(2, 10); return two; })()],
  ['client subnet with a non-zero scope', buildQuery('a.', 1, { edns: { options: [{ code: 8, data: Buffer.from([0, 1, 24, 8, 1, 2, 3]) }] } })],
  ['client subnet address longer than its prefix', buildQuery('a.', 1, { edns: { options: [{ code: 8, data: Buffer.from([0, 1, 8, 0, 1, 2]) }] } })],
  ['EDNS option overrunning the record', (() => { const m = buildQuery('a.', 1, { edns: { options: [{ code: 10, data: Buffer.alloc(8) }] } }); m.writeUInt16BE(99, m.length - 10); return m; })()],
];
for (const [what, msg] of formerr) {
  t.test(`FORMERR: ${what}`, async (t) => {
    const read = readQuery(msg);
    t.ok('error' in read, JSON.stringify(read));
    if ('error' in read) t.equal(read.error.rcode, Rcode.FORMERR);
  });
}

t.test('a name longer than 255 octets is FORMERR', async (t) => {
  const labels = Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]));
  const msg = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
  const read = readQuery(msg);
  t.ok('error' in read && read.error.rcode === Rcode.FORMERR);
});

t.test('a non-QUERY opcode is NOTIMP with the question kept', async (t) => {
  const msg = buildQuery('example.com.', Type.SOA, { flags: 2 << 11 });
  const read = readQuery(msg);
  t.ok('error' in read);
  if ('error' in read) {
    t.equal(read.error.rcode, Rcode.NOTIMP);
    t.equal(read.error.questionEnd, msg.length);
  }
});

t.test('responses and runts are dropped, not answered', async (t) => {
  t.ok('drop' in readQuery(Buffer.alloc(5)));
  t.ok('drop' in readQuery(buildQuery('a.', 1, { flags: 0x8000 })));
});
