// TSIG (RFC 8945) against other implementations: updates signed by Knot's knsupdate and BIND's nsupdate (-y) verify
// with their secret and
// fail with any other, a stale time is BADTIME, a truncated MAC BADTRUNC; a signed response verifies with the
// test's own MAC code (test/dns/update-wire.ts), for each algorithm.

import t from 'tap';
import dgram from 'node:dgram';
import { run } from '../helpers/pebble.js';
import { requireTool } from '../helpers/tools.js';
import { readUpdate } from '../../src/proto/update-reader.js';
import { signResponse, TsigError, verifyRequest } from '../../src/proto/tsig.js';
import { updateResponse } from '../../src/dns/update-response.js';
import { buildUpdate, responseVerifies, sign, readResponse, a, IN, T } from '../dns/update-wire.js';

/** The first UPDATE a client program sends to a socket of ours (it gets no answer and gives up after its timeout). */
async function capture(program: string, args: string[], script: string): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  const got = new Promise<Buffer>((resolve) => socket.once('message', (m) => resolve(m)));
  const done = run('/bin/sh', ['-c', `printf '%s' "$SCRIPT" | "$0" "$@"`, program, ...args], { env: { SCRIPT: script.replaceAll('PORT', String(port)) }, timeoutMs: 15_000 });
  const message = await Promise.race([got, done.then((r) => Promise.reject(new Error(`${program} sent nothing:\n${r.output}`)))]);
  await done;
  socket.close();
  return message;
}

const UPDATE_SCRIPT = 'server 127.0.0.1 PORT\nzone example.test.\nupdate add x.example.test. 60 A 192.0.2.1\nsend\n';

/** An UPDATE signed by Knot's knsupdate or BIND's nsupdate (two TSIG implementations besides ours). */
function signedBy(tool: 'knsupdate' | 'nsupdate', algorithm: string, secret: string): Promise<Buffer> {
  const program = requireTool(tool);
  const args = tool === 'knsupdate' ? ['-t', '1', '-r', '0', '-y', `${algorithm}:Update-Key.Example.:${secret}`] : ['-t', '1', '-u', '1', '-r', '0', '-y', `${algorithm}:Update-Key.Example.:${secret}`];
  return capture(program, args, UPDATE_SCRIPT);
}

const SECRETS: [string, string, number][] = [
  ['hmac-sha256', Buffer.alloc(32, 1).toString('base64'), 32],
  ['hmac-sha512', Buffer.alloc(64, 2).toString('base64'), 64],
  ['hmac-sha1', Buffer.alloc(20, 3).toString('base64'), 20],
  ['hmac-sha384', Buffer.alloc(48, 4).toString('base64'), 48],
  ['hmac-sha224', Buffer.alloc(28, 5).toString('base64'), 28],
];

t.test("knsupdate's and nsupdate's signatures verify, and only with their secret", async (t) => {
  for (const [tool, [algorithm, secret, size]] of [...SECRETS.map((s) => ['knsupdate', s] as const), ['nsupdate', SECRETS[0] as [string, string, number]] as const, ['nsupdate', SECRETS[1] as [string, string, number]] as const]) {
    const msg = await signedBy(tool, algorithm, secret);
    t.equal(((msg[2] as number) >> 3) & 0xf, 5, `${tool} ${algorithm}: an UPDATE`);
    const read = readUpdate(msg);
    if (!('update' in read)) throw new Error(`${tool} ${algorithm}: ${read.error.reason}`);
    const tsig = read.update.tsig;
    if (!tsig) throw new Error(`${tool} ${algorithm}: no TSIG`);
    t.equal(tsig.algorithm, `${algorithm}.`, `${tool} ${algorithm}: algorithm`);
    t.equal(tsig.mac.length, size, `${tool} ${algorithm}: a full-length MAC`);
    const now = tsig.timeSigned;
    t.equal(verifyRequest(msg, tsig, Buffer.from(secret, 'base64'), now), TsigError.NOERROR, `${tool} ${algorithm}: verifies`);
    t.equal(verifyRequest(msg, tsig, Buffer.alloc(size, 9), now), TsigError.BADSIG, `${tool} ${algorithm}: another secret is BADSIG`);
    t.equal(verifyRequest(msg, tsig, Buffer.from(secret, 'base64'), now + tsig.fudge + 1), TsigError.BADTIME, `${tool} ${algorithm}: after the fudge, BADTIME`);
    t.equal(verifyRequest(msg, tsig, Buffer.from(secret, 'base64'), now - tsig.fudge), TsigError.NOERROR, `${tool} ${algorithm}: at the edge of the fudge, fine`);
    const tampered = Buffer.from(msg);
    tampered[13] ^= 0x20; // a letter of the zone name changes case: the MAC covers the octets as sent
    const again = readUpdate(tampered);
    t.equal('update' in again && again.update.tsig ? verifyRequest(tampered, again.update.tsig, Buffer.from(secret, 'base64'), now) : -1, TsigError.BADSIG, `${tool} ${algorithm}: one octet changed, BADSIG`);
  }
});

t.test('a truncated MAC is BADTRUNC; a signed response verifies independently', async (t) => {
  const secret = Buffer.alloc(32, 1);
  const msg = buildUpdate({ zone: 'example.test.', updates: [{ name: 'x.example.test.', type: T.A, class: IN, ttl: 60, rdata: a('192.0.2.1') }] });
  const now = 1_700_000_000;
  const full = sign(msg, { keyName: 'k.example.', algorithm: 'hmac-sha256', secret, time: now });
  const short = sign(msg, { keyName: 'k.example.', algorithm: 'hmac-sha256', secret, time: now, mac: full.mac.subarray(0, 16) });
  const read = readUpdate(short.message);
  if (!('update' in read) || !read.update.tsig) throw new Error('unreadable');
  t.equal(verifyRequest(short.message, read.update.tsig, secret, now), TsigError.BADTRUNC);

  const good = readUpdate(full.message);
  if (!('update' in good) || !good.update.tsig) throw new Error('unreadable');
  const response = signResponse(updateResponse(full.message, { id: good.update.id, zoneEnd: good.update.zoneEnd, edns: false }, 0), secret, { request: good.update.tsig, error: TsigError.NOERROR, now: now + 5 });
  t.ok(responseVerifies(response, secret, full.mac), 'the response MAC covers the request MAC, the response and the variables');
  t.notOk(responseVerifies(response, Buffer.alloc(32, 2), full.mac), 'and not with another secret');
  const r = readResponse(response);
  t.match(r, { qr: true, opcode: 5, rcode: 0, zocount: 1, arcount: 1 });
  t.equal(r.tsig?.timeSigned, now + 5, 'signed at the server time');
  t.equal(r.tsig?.originalId, good.update.id);
  const late = signResponse(updateResponse(full.message, { id: good.update.id, zoneEnd: good.update.zoneEnd, edns: false }, 9), secret, { request: good.update.tsig, error: TsigError.BADTIME, now: now + 1000 });
  const bad = readResponse(late);
  t.equal(bad.tsig?.error, TsigError.BADTIME);
  t.equal(bad.tsig?.timeSigned, now, 'BADTIME: the client time in Time Signed');
  t.equal(bad.tsig?.other.readUIntBE(0, 6), now + 1000, '… and the server time in Other Data (RFC 8945 §5.2.3)');
  t.ok(responseVerifies(late, secret, full.mac), 'a BADTIME response is signed');
});
