// RFC 2136 UPDATE with TSIG on a running node: Knot's knsupdate and BIND's nsupdate add and delete records with a
// key made by the API, prerequisites answer with their rcodes, and raw packets over UDP and TCP check every refusal:
// unsigned (REFUSED), unknown key (NOTAUTH/BADKEY, unsigned), wrong secret (BADSIG, unsigned), stale time (BADTIME,
// signed), a zone not served (NOTAUTH), a key outside its scope (REFUSED), a revoked key.

import t from 'tap';
import path from 'node:path';
import { startTestNode } from '../helpers/node.js';
import { dig } from '../helpers/dig.js';
import { run } from '../helpers/pebble.js';
import { requireTool } from '../helpers/tools.js';
import { tcpExchange, udpExchange } from '../helpers/dns-socket.js';
import { a, ANY, buildUpdate, IN, NONE, readResponse, responseVerifies, sign, T, txt, type WireRR } from './update-wire.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');

interface Key {
  name: string;
  algorithm: string;
  secret: string;
}

t.test('dynamic updates with TSIG', async (t) => {
  const knsupdate = requireTool('knsupdate');
  const nsupdate = requireTool('nsupdate');
  const node = await startTestNode({ zoneFiles: [ZONE] });
  t.teardown(() => node.close());
  const newKey = async (body: Record<string, string>): Promise<Key> => {
    const r = await node.api('POST', '/v1/tsig-keys', { body });
    t.equal(r.status, 201, `TSIG key ${JSON.stringify(body)} created`);
    return r.body as Key;
  };
  const zoneKey = await newKey({ scope: 'zone:example.test', name: 'updater.example.test' });
  const answers = async (name: string, type = 'A'): Promise<string[]> => (await dig(node.dnsPort, name, type)).answer.map((rr) => rr.data).sort();
  const script = (...lines: string[]): string => [`server 127.0.0.1 ${node.dnsPort}`, 'zone example.test.', ...lines, 'send', ''].join('\n');
  const tool = async (program: string, args: string[], input: string): Promise<{ code: number | null; output: string }> =>
    run('/bin/sh', ['-c', `printf '%s' "$SCRIPT" | "$0" "$@"`, program, ...args], { env: { SCRIPT: input }, timeoutMs: 20_000 });

  await t.test('knsupdate adds and deletes a record', async (t) => {
    const y = ['-t', '3', '-y', `${zoneKey.algorithm}:${zoneKey.name}:${zoneKey.secret}`];
    const added = await tool(knsupdate, y, script('update add new.example.test. 60 A 192.0.2.77', 'update add new.example.test. 60 TXT "made by knsupdate"'));
    t.equal(added.code, 0, `knsupdate add exits 0\n${added.output}`);
    t.same(await answers('new.example.test'), ['192.0.2.77'], 'the A record is served as soon as the update is answered');
    t.same(await answers('new.example.test', 'TXT'), ['"made by knsupdate"']);
    const deleted = await tool(knsupdate, y, script('update delete new.example.test. A', 'update delete new.example.test. TXT "made by knsupdate"'));
    t.equal(deleted.code, 0, `knsupdate delete exits 0\n${deleted.output}`);
    t.equal((await dig(node.dnsPort, 'new.example.test', 'A')).rcode, 'NXDOMAIN', 'both gone: the name is gone');
    const wrong = await tool(knsupdate, ['-t', '3', '-y', `${zoneKey.algorithm}:${zoneKey.name}:${Buffer.alloc(32, 1).toString('base64')}`], script('update add bad.example.test. 60 A 192.0.2.78'));
    t.not(wrong.code, 0, 'knsupdate with the wrong secret fails');
    t.match(wrong.output, /NOTAUTH|BADSIG/, `and says why: ${wrong.output.trim()}`);
    t.equal((await dig(node.dnsPort, 'bad.example.test', 'A')).rcode, 'NXDOMAIN', 'nothing written');
  });

  await t.test('nsupdate over UDP and TCP, with prerequisites', async (t) => {
    const key = await newKey({ scope: 'zone:example.test', name: 'bind.example.test', algorithm: 'hmac-sha512' });
    const y = ['-t', '3', '-y', `${key.algorithm}:${key.name}:${key.secret}`];
    const added = await tool(nsupdate, y, script('prereq nxdomain ns.example.test.', 'update add ns.example.test. 300 A 192.0.2.80'));
    t.equal(added.code, 0, `nsupdate exits 0\n${added.output}`);
    t.same(await answers('ns.example.test'), ['192.0.2.80']);
    const refused = await tool(nsupdate, y, script('prereq nxdomain ns.example.test.', 'update add ns.example.test. 300 A 192.0.2.81'));
    t.not(refused.code, 0, 'a prerequisite that fails fails the update');
    t.match(refused.output, /YXDOMAIN/, 'with the rcode of the prerequisite');
    t.same(await answers('ns.example.test'), ['192.0.2.80'], 'nothing written');
    const tcp = await tool(nsupdate, ['-v', ...y], script('prereq yxrrset ns.example.test. A 192.0.2.80', 'update delete ns.example.test. A 192.0.2.80', 'update add ns.example.test. 300 A 192.0.2.82'));
    t.equal(tcp.code, 0, `nsupdate -v (TCP) exits 0\n${tcp.output}`);
    t.same(await answers('ns.example.test'), ['192.0.2.82'], 'delete and add, atomically');
  });

  await t.test('raw packets: every refusal with its rcode', async (t) => {
    const secret = Buffer.from(zoneKey.secret, 'base64');
    const add: WireRR[] = [{ name: 'raw.example.test.', type: T.A, class: IN, ttl: 60, rdata: a('192.0.2.90') }];
    const update = (updates: WireRR[], prerequisites: WireRR[] = [], zone = 'example.test.') => buildUpdate({ id: 0x1234, zone, updates, prerequisites });
    const signed = (msg: Buffer, extra: Partial<Parameters<typeof sign>[1]> = {}) => sign(msg, { keyName: zoneKey.name, algorithm: zoneKey.algorithm, secret, ...extra });
    const send = async (msg: Buffer, tcp = false): Promise<Buffer> => (tcp ? ((await tcpExchange(node.dnsPort, [msg]))[0] as Buffer) : udpExchange(node.dnsPort, msg));

    const unsigned = readResponse(await send(update(add)));
    t.match(unsigned, { id: 0x1234, qr: true, opcode: 5, rcode: 5, zocount: 1 }, 'unsigned: REFUSED, zone section echoed');
    t.notOk(unsigned.tsig, 'and no TSIG');

    const unknown = readResponse(await send(sign(update(add), { keyName: 'nobody.example.', algorithm: 'hmac-sha256', secret }).message));
    t.equal(unknown.rcode, 9, 'unknown key: NOTAUTH');
    t.match(unknown.tsig, { error: 17, mac: Buffer.alloc(0) }, '… BADKEY, unsigned');

    const wrongAlgorithm = readResponse(await send(sign(update(add), { keyName: zoneKey.name, algorithm: 'hmac-sha512', secret }).message));
    t.match({ rcode: wrongAlgorithm.rcode, error: wrongAlgorithm.tsig?.error }, { rcode: 9, error: 17 }, 'the key with another algorithm: BADKEY');

    const badSig = readResponse(await send(signed(update(add), { secret: Buffer.alloc(32, 1) }).message, true));
    t.equal(badSig.rcode, 9, 'wrong secret (TCP): NOTAUTH');
    t.match(badSig.tsig, { error: 16, mac: Buffer.alloc(0) }, '… BADSIG, unsigned');

    const stale = signed(update(add), { time: Math.floor(Date.now() / 1000) - 1000 });
    const staleResponse = await send(stale.message);
    const late = readResponse(staleResponse);
    t.equal(late.rcode, 9, 'a time outside the fudge: NOTAUTH');
    t.equal(late.tsig?.error, 18, '… BADTIME');
    t.ok(responseVerifies(staleResponse, secret, stale.mac), '… signed with the key (RFC 8945 §5.2.3)');
    t.ok(Math.abs((late.tsig?.other.readUIntBE(0, 6) ?? 0) - Date.now() / 1000) < 5, '… with the server time in Other Data');
    t.equal((await dig(node.dnsPort, 'raw.example.test', 'A')).rcode, 'NXDOMAIN', 'none of those wrote anything');

    const ok = signed(update(add));
    const okResponse = await send(ok.message);
    t.equal(readResponse(okResponse).rcode, 0, 'signed right: NOERROR');
    t.ok(responseVerifies(okResponse, secret, ok.mac), 'and the answer is signed (RFC 8945 §5.3)');
    t.same(await answers('raw.example.test'), ['192.0.2.90']);

    const rcode = async (msg: Buffer, tcp = false): Promise<number> => {
      const s = signed(msg);
      const response = await send(s.message, tcp);
      t.ok(responseVerifies(response, secret, s.mac), 'signed answer');
      return readResponse(response).rcode;
    };
    t.equal(await rcode(update(add, [], 'other.test.')), 9, 'a zone not served here: NOTAUTH');
    t.equal(await rcode(update([{ ...add[0] as WireRR, name: 'raw.other.test.' }])), 10, 'an update outside the zone: NOTZONE');
    t.equal(await rcode(update(add, [{ name: 'raw.example.test.', type: T.ANY, class: NONE, ttl: 0 }])), 6, 'name not in use, but it is: YXDOMAIN');
    t.equal(await rcode(update(add, [{ name: 'none.example.test.', type: T.ANY, class: ANY, ttl: 0 }])), 3, 'name in use, but it is not: NXDOMAIN');
    t.equal(await rcode(update(add, [{ name: 'raw.example.test.', type: T.A, class: NONE, ttl: 0 }]), true), 7, 'RRset does not exist, but it does: YXRRSET');
    t.equal(await rcode(update(add, [{ name: 'raw.example.test.', type: T.TXT, class: ANY, ttl: 0 }])), 8, 'RRset exists, but it does not: NXRRSET');
    t.equal(await rcode(update([{ name: 'www.example.test.', type: T.CNAME, class: ANY, ttl: 0 }, { name: 'example.test.', type: T.NS, class: ANY, ttl: 0 }, { name: 'alias.example.test.', type: T.A, class: IN, ttl: 60, rdata: a('192.0.2.1') }])), 0, 'what RFC 2136 ignores is ignored (apex NS, data beside a CNAME)');
    t.same(await answers('example.test', 'NS'), ['ns1.example.test.', 'ns2.example.test.'], 'the apex NS stays');
    t.equal(await rcode(update([{ name: 'sub.example.test.', type: T.NS, class: IN, ttl: 60, rdata: Buffer.from('036e7331076578616d706c65047465737400', 'hex') }, { name: 'x.sub.example.test.', type: T.TXT, class: IN, ttl: 60, rdata: txt('occluded') }])), 5, 'a zone the update would break (data below a delegation): REFUSED');
    t.equal((await dig(node.dnsPort, 'sub.example.test', 'NS')).rcode, 'NXDOMAIN', 'nothing of it written');

    const acme = await newKey({ scope: 'acme:example.test' });
    const acmeSecret = Buffer.from(acme.secret, 'base64');
    const asAcme = async (updates: WireRR[]): Promise<number> => {
      const s = sign(update(updates), { keyName: acme.name, algorithm: acme.algorithm, secret: acmeSecret });
      const response = await send(s.message);
      t.ok(responseVerifies(response, acmeSecret, s.mac), 'signed answer');
      return readResponse(response).rcode;
    };
    t.equal(await asAcme([{ name: '_acme-challenge.example.test.', type: T.TXT, class: IN, ttl: 60, rdata: txt('token') }]), 0, 'an acme: key adds its challenge TXT');
    t.same(await answers('_acme-challenge.example.test', 'TXT'), ['"token"']);
    t.equal(await asAcme([{ name: 'www.example.test.', type: T.A, class: IN, ttl: 60, rdata: a('192.0.2.66') }]), 5, 'and nothing else: REFUSED');
    t.equal(await asAcme([{ name: '_acme-challenge.example.test.', type: T.A, class: IN, ttl: 60, rdata: a('192.0.2.66') }]), 5, 'not even another type at its name');
    t.equal(await asAcme([{ name: '_acme-challenge.example.test.', type: T.TXT, class: NONE, ttl: 0, rdata: txt('token') }]), 0, 'it removes its value');

    t.equal((await node.api('DELETE', `/v1/tsig-keys/${acme.name}`)).status, 200, 'revoke the acme key');
    const revoked = readResponse(await send(sign(update([{ name: '_acme-challenge.example.test.', type: T.TXT, class: IN, ttl: 60, rdata: txt('again') }]), { keyName: acme.name, algorithm: acme.algorithm, secret: acmeSecret }).message));
    t.match({ rcode: revoked.rcode, error: revoked.tsig?.error }, { rcode: 9, error: 17 }, 'a revoked key is BADKEY at once');

    const malformed = Buffer.from(update(add));
    malformed.writeUInt16BE(2, 4);
    t.equal(readResponse(await send(malformed)).rcode, 1, 'two zones: FORMERR');

    const metrics = (await node.api('GET', '/metrics', { key: null })).body as string;
    t.match(metrics, /edgedns_dns_updates_total\{rcode="NOERROR"\} [1-9]/, 'updates counted by rcode');
    t.match(metrics, /edgedns_dns_update_auth_failures_total\{error="BADSIG"\} [1-9]/, 'signature failures counted');
  });
});
