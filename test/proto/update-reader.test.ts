// The UPDATE reader (RFC 2136 §2): sections in order, compressed names read back whole, TSIG found last, and every
// malformed message a FORMERR with a reason, never an exception, within the message's own bounds.

import t from 'tap';
import { readUpdate } from '../../src/proto/update-reader.js';
import { buildUpdate, a, txt, sign, IN, ANY, NONE, T } from '../dns/update-wire.js';

const secret = Buffer.alloc(32, 7);

t.test('sections: zone, prerequisites, updates, and the TSIG last', async (t) => {
  const msg = buildUpdate({
    zone: 'Example.TEST.',
    prerequisites: [{ name: 'www.example.test.', type: T.A, class: ANY, ttl: 0 }],
    updates: [
      { name: 'new.example.test.', type: T.A, class: IN, ttl: 60, rdata: a('192.0.2.9') },
      { name: 'old.example.test.', type: T.ANY, class: ANY, ttl: 0 },
      { name: 'txt.example.test.', type: T.TXT, class: NONE, ttl: 0, rdata: txt('x') },
    ],
  });
  const signed = sign(msg, { keyName: 'Key.Name.', algorithm: 'hmac-sha256', secret, time: 1_700_000_000 }).message;
  const read = readUpdate(signed);
  if (!('update' in read)) throw new Error(read.error.reason);
  const u = read.update;
  t.equal(u.zone, 'example.test.', 'zone name as a key');
  t.equal(u.zoneType, T.SOA);
  t.same(u.prerequisites.map((r) => `${r.name} ${r.type} ${r.class}`), ['www.example.test. 1 255']);
  t.same(u.updates.map((r) => `${r.name} ${r.type} ${r.class} ${r.ttl} ${r.rdata.toString('hex')}`), ['new.example.test. 1 1 60 c0000209', 'old.example.test. 255 255 0 ', 'txt.example.test. 16 254 0 0178']);
  t.equal(u.tsig?.keyName, 'key.name.');
  t.same(u.tsig?.keyLabels, ['Key', 'Name'], 'the key name as sent, for the response');
  t.equal(u.tsig?.algorithm, 'hmac-sha256.');
  t.equal(u.tsig?.timeSigned, 1_700_000_000);
  t.equal(u.tsig?.mac.length, 32);
  t.equal(u.tsig?.start, msg.length, 'the MAC covers what comes before the TSIG');
});

t.test('compressed owner names and rdata names come out whole', async (t) => {
  // zone example.test. at 12; an NS update whose owner points at the zone name and whose rdata is ns1 + pointer
  const head = buildUpdate({ zone: 'example.test.' });
  const owner = Buffer.from([0xc0, 12]);
  const rdata = Buffer.concat([Buffer.from([3]), Buffer.from('ns1'), Buffer.from([0xc0, 12])]);
  const rrHead = Buffer.alloc(10);
  rrHead.writeUInt16BE(T.NS, 0);
  rrHead.writeUInt16BE(IN, 2);
  rrHead.writeUInt32BE(3600, 4);
  rrHead.writeUInt16BE(rdata.length, 8);
  const msg = Buffer.concat([head, owner, rrHead, rdata]);
  msg.writeUInt16BE(1, 8);
  const read = readUpdate(msg);
  if (!('update' in read)) throw new Error(read.error.reason);
  t.equal(read.update.updates[0]?.name, 'example.test.');
  t.equal(read.update.updates[0]?.rdata.toString('hex'), Buffer.concat([Buffer.from([3]), Buffer.from('ns1'), Buffer.from([7]), Buffer.from('example'), Buffer.from([4]), Buffer.from('test'), Buffer.from([0])]).toString('hex'));
});

t.test('malformed messages are FORMERR with a reason', async (t) => {
  const good = buildUpdate({ zone: 'example.test.', updates: [{ name: 'x.example.test.', type: T.A, class: IN, ttl: 60, rdata: a('192.0.2.1') }] });
  const cases: [string, Buffer, RegExp][] = [];
  const twoZones = Buffer.from(good);
  twoZones.writeUInt16BE(2, 4);
  cases.push(['two zones', twoZones, /zone count 2/]);
  cases.push(['zone of type A', buildUpdate({ zone: 'example.test.', zoneType: T.A }), /not SOA/]);
  const many = Buffer.from(good);
  many.writeUInt16BE(0xffff, 8);
  cases.push(['counts the message cannot hold', many, /exceed/]);
  cases.push(['truncated rdata', good.subarray(0, good.length - 2), /runs past/]);
  cases.push(['trailing octets', Buffer.concat([good, Buffer.from([0])]), /after the last record/]);
  // an owner name that points forward (to itself): a loop
  const loop = Buffer.concat([buildUpdate({ zone: 'example.test.' }), Buffer.from([0xc0, 30]), Buffer.alloc(10)]);
  loop.writeUInt16BE(1, 8);
  cases.push(['a pointer loop', loop, /runs past|malformed/]);
  const signed = sign(good, { keyName: 'k.', algorithm: 'hmac-sha256', secret }).message;
  const afterTsig = Buffer.concat([signed, Buffer.from([0]), Buffer.from([0, 1, 0, 1, 0, 0, 0, 0, 0, 0])]);
  afterTsig.writeUInt16BE(afterTsig.readUInt16BE(10) + 1, 10);
  cases.push(['a record after the TSIG', afterTsig, /follows the TSIG/]);
  const tsigInUpdates = Buffer.from(signed);
  tsigInUpdates.writeUInt16BE(2, 8);
  tsigInUpdates.writeUInt16BE(0, 10);
  cases.push(['TSIG among the updates', tsigInUpdates, /TSIG outside/]);
  for (const [what, msg, reason] of cases) {
    const read = readUpdate(msg);
    t.ok('error' in read && read.error.rcode === 1, `${what}: FORMERR`);
    if ('error' in read) t.match(read.error.reason, reason, `${what}: ${read.error.reason}`);
  }
});

t.test('random damage never throws', async (t) => {
  const base = sign(
    buildUpdate({ zone: 'example.test.', prerequisites: [{ name: 'p.example.test.', type: T.TXT, class: IN, ttl: 0, rdata: txt('v') }], updates: [{ name: 'x.example.test.', type: T.MX, class: IN, ttl: 60, rdata: Buffer.concat([Buffer.from([0, 10]), Buffer.from([0xc0, 12])]) }] }),
    { keyName: 'k.', algorithm: 'hmac-sha256', secret },
  ).message;
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const msg = Buffer.from(base.subarray(0, 12 + random(base.length - 11)));
    for (let k = 0; k < 1 + random(4); k++) msg[12 + random(msg.length - 12)] = random(256);
    const read = readUpdate(msg);
    if ('error' in read) errors++;
  }
  t.ok(errors > 2000, `${errors} of 3000 damaged messages refused, none threw`);
});
