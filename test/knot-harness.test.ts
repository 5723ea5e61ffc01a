// The differential harness on its own: knotd against knotd must agree on every fixture query, knotd against a knotd
// serving a changed zone must not (so the comparison cannot pass vacuously), and a few direct observations of what
// knotd answers, so the reference behaviour edgedns is held to is written down.

import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { compareServers, formatDifferences } from './helpers/diff.js';
import { dig, describe, normalizeRdata, normalizeRR, parseDig, type DigResult, type RR } from './helpers/dig.js';
import { checkZones, startKnot, type KnotServer } from './helpers/knotd.js';
import { freePort } from './helpers/ports.js';
import { requireTool } from './helpers/tools.js';
import { FIXTURE_ZONES, QUERIES, TCP_QUERIES } from './fixtures/diff/queries.js';

const zones = FIXTURE_ZONES.map((z) => ({ ...z }));

function rrs(section: RR[], type?: string): RR[] {
  return section.map(normalizeRR).filter((rr) => type === undefined || rr.type === type);
}

t.test('requireTool names the Debian package when a tool is missing', async (t) => {
  t.throws(() => requireTool('knotd-that-does-not-exist'), /knotd-that-does-not-exist not found/);
  t.throws(() => requireTool('/nonexistent/knotd'), /not found/);
  t.match(requireTool('knotd'), /^\/.*knotd$/);
  t.match(requireTool('dig'), /^\/.*dig$/);
});

t.test('freePort gives a port that binds for UDP and TCP on 127.0.0.1', async (t) => {
  const port = await freePort();
  const udp = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, '127.0.0.1', resolve);
  });
  t.teardown(() => udp.close());
  const tcp = createServer();
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', resolve);
  });
  t.teardown(() => tcp.close());
  t.pass(`bound ${port}`);

  t.test('and startKnot on a taken port fails with knotd saying so', async (t) => {
    await t.rejects(startKnot({ zones, port, startTimeoutMs: 5000 }), { message: /cannot bind address/ });
  });
});

t.test('normalizeRdata lower-cases and collapses whitespace outside quotes only', async (t) => {
  t.equal(normalizeRdata('10   MAIL.Example.NET.'), '10 mail.example.net.');
  t.equal(normalizeRdata('"Two  Spaces" "say \\"Hi\\""  X'), '"Two  Spaces" "say \\"Hi\\"" x');
  t.equal(normalizeRdata('\\# 4 0A000001'), '\\# 4 0a000001');
});

t.test('parseDig reads header, flags, OPT and sections', async (t) => {
  const raw = [
    ';; Got answer:',
    ';; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 42860',
    ';; flags: qr aa; QUERY: 1, ANSWER: 1, AUTHORITY: 1, ADDITIONAL: 1',
    '',
    ';; OPT PSEUDOSECTION:',
    '; EDNS: version: 0, flags: do; udp: 1232',
    '; EDE: 20 (Not Authoritative)',
    ';; QUESTION SECTION:',
    ';dangling.example.net.\t\tIN\tA',
    '',
    ';; ANSWER SECTION:',
    'dangling.example.net.\t3600\tIN\tCNAME\tmissing.example.net.',
    '',
    ';; AUTHORITY SECTION:',
    'example.net.\t\t300\tIN\tSOA\tns1.example.net. hostmaster.example.net. 1 7200 900 1209600 300',
    '',
  ].join('\n');
  const r = parseDig(raw);
  t.equal(r.rcode, 'NXDOMAIN');
  t.same(r.flags, ['qr', 'aa']);
  t.equal(r.ednsVersion, 0);
  t.equal(r.ednsUdp, 1232);
  t.same(r.opt?.flags, ['do']);
  t.equal(r.opt?.options.EDE, '20 (Not Authoritative)');
  t.same(r.question, [{ name: 'dangling.example.net.', class: 'IN', type: 'A' }]);
  t.same(r.answer, [
    { name: 'dangling.example.net.', ttl: 3600, class: 'IN', type: 'CNAME', data: 'missing.example.net.' },
  ]);
  t.equal(r.authority[0].ttl, 300);
  t.equal(r.authority[0].type, 'SOA');
});

t.test('the fixture zones pass knot semantic checks', async (t) => {
  await t.resolves(checkZones({ zones }));
});

t.test('startKnot fails with knotd output when a zone does not load', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-badzone-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.zone');
  writeFileSync(bad, '$ORIGIN bad.test.\n@ 3600 IN SOA ns1 h 1 2 3 4 5\nwww IN CNAME a\nwww IN A 192.0.2.1\n');
  await t.rejects(
    startKnot({ zone: 'bad.test.', zoneFile: bad, startTimeoutMs: 10_000 }),
    { message: /could not load zone bad\.test\.[^]*another record exists beside CNAME/ },
  );
});

t.test('knotd against knotd', async (t) => {
  const a = await startKnot({ zones });
  t.teardown(() => a.stop());
  const b = await startKnot({ zones });
  t.teardown(() => b.stop());

  t.test('two knotd serving the same zones agree on every fixture query over UDP', async (t) => {
    const differences = await compareServers(a, b, QUERIES, { labels: ['knotd-a', 'knotd-b'] });
    t.same(differences, [], formatDifferences(differences));
    t.ok(QUERIES.length > 500, `${QUERIES.length} queries asked`);
  });

  t.test('and over TCP', async (t) => {
    const differences = await compareServers(a, b, TCP_QUERIES, { dig: { tcp: true } });
    t.same(differences, [], formatDifferences(differences));
  });

  t.test('and with a 512-byte buffer, watching TC', async (t) => {
    const differences = await compareServers(a, b, TCP_QUERIES, { dig: { bufsize: 512, ignoreTc: true } });
    t.same(differences, [], formatDifferences(differences));
  });
});

t.test('a knotd serving a changed zone is told apart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-changed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const net = zones.find((z) => z.zone === 'example.net.');
  if (net === undefined) throw new Error('fixture example.net. missing');
  const changed = join(dir, 'example.net.zone');
  const change = (text: string, from: string | RegExp, to: string): string => {
    const result = text.replace(from, to);
    if (result === text) throw new Error(`fixture no longer contains ${String(from)}`);
    return result;
  };
  let text = readFileSync(net.zoneFile, 'utf8');
  text = change(text, /^(host +IN A +)192\.0\.2\.30$/m, '$1192.0.2.99'); // a different address
  text = change(text, '2024010101 7200 900 1209600 300', '2024010101 7200 900 1209600 299'); // negative TTL
  text = change(text, /^ns1\.child .* AAAA .*$/m, ''); // a glue AAAA
  text = change(text, /^\*\.w .* TXT .*$/m, ''); // a wildcard TXT
  writeFileSync(changed, text);

  const a = await startKnot({ zones });
  t.teardown(() => a.stop());
  const b = await startKnot({ zones: [{ zone: 'example.net.', zoneFile: changed }, zones[1]] });
  t.teardown(() => b.stop());

  const differences = await compareServers(a, b, QUERIES);
  const about = (name: string, type: string): boolean =>
    differences.some((d) => d.query.name === name && d.query.type === type);
  t.ok(about('host.example.net.', 'A'), 'changed address seen');
  t.ok(about('chain1.example.net.', 'A'), 'changed address seen at the end of a CNAME chain');
  t.ok(about('nope.example.net.', 'A'), 'changed negative TTL seen');
  t.ok(about('www.child.example.net.', 'A'), 'missing glue seen in the additional section');
  t.ok(about('a.w.example.net.', 'TXT'), 'missing wildcard TXT seen');
  t.notOk(about('example.org.', 'SOA'), 'unchanged zone still agrees');
  t.ok(differences.every((d) => d.message.includes(d.query.name)), 'messages name the query');
});

t.test('what knotd answers', async (t) => {
  const knot: KnotServer = await startKnot({ zones, identity: 'knot-test', version: 'test-version' });
  t.teardown(() => knot.stop());
  const q = (name: string, type: string, options = {}): Promise<DigResult> => dig(knot.port, name, type, options);

  t.test('NXDOMAIN carries the SOA with TTL min(SOA TTL, MINIMUM) (RFC 2308 §5)', async (t) => {
    const net = await q('nope.example.net.', 'A');
    t.equal(net.rcode, 'NXDOMAIN');
    t.ok(net.flags.includes('aa'));
    t.same(net.answer, []);
    t.same(rrs(net.authority).map((rr) => [rr.name, rr.type, rr.ttl]), [['example.net.', 'SOA', 300]], describe(net));
    const org = await q('nope.example.org.', 'A');
    t.same(rrs(org.authority).map((rr) => [rr.type, rr.ttl]), [['SOA', 60]], 'SOA TTL 60 < MINIMUM 600');
  });

  t.test('NODATA is NOERROR with the SOA and the same TTL; so are empty non-terminals', async (t) => {
    for (const name of ['host.example.net.', 'y.w.example.net.', '_tcp.example.net.']) {
      const r = await q(name, 'AAAA');
      t.equal(r.rcode, 'NOERROR', name);
      t.same(r.answer, [], name);
      t.same(rrs(r.authority).map((rr) => [rr.type, rr.ttl]), [['SOA', 300]], name);
    }
  });

  t.test('positive answers: no authority section; in-zone target addresses in additional', async (t) => {
    const mx = await q('example.net.', 'MX');
    t.same(mx.authority, []);
    const names = (section: RR[]): string[] => rrs(section).map((rr) => `${rr.name} ${rr.type}`).sort();
    t.same(names(mx.additional), ['mail.example.net. A', 'mail.example.net. AAAA']);
    const srv = await q('_sip._tcp.example.net.', 'SRV');
    t.same(names(srv.additional), ['sip.example.net. A', 'sip.example.net. AAAA']);
    const ns = await q('example.net.', 'NS');
    t.equal(ns.answer.length, 3);
    t.same(names(ns.additional), [
      'ns1.example.net. A',
      'ns1.example.net. AAAA',
      'ns2.example.net. A',
      'ns2.example.net. AAAA',
    ]);
  });

  t.test('a CNAME to a missing in-zone name is NXDOMAIN with the CNAME (RFC 6604)', async (t) => {
    const r = await q('dangling.example.net.', 'A');
    t.equal(r.rcode, 'NXDOMAIN');
    t.same(rrs(r.answer).map((rr) => rr.type), ['CNAME']);
    t.same(rrs(r.authority).map((rr) => [rr.type, rr.ttl]), [['SOA', 300]]);
  });

  t.test('a CNAME chain is followed in zone; a loop stops after each name once, NOERROR', async (t) => {
    const chain = await q('chain1.example.net.', 'A');
    t.same(rrs(chain.answer).map((rr) => `${rr.name} ${rr.type}`), [
      'chain1.example.net. CNAME',
      'chain2.example.net. CNAME',
      'chain3.example.net. CNAME',
      'host.example.net. A',
    ]);
    const loop = await q('loop-a.example.net.', 'A');
    t.equal(loop.rcode, 'NOERROR');
    t.same(rrs(loop.answer).map((rr) => rr.name), ['loop-a.example.net.', 'loop-b.example.net.']);
    const self = await q('self.example.net.', 'A');
    t.equal(self.rcode, 'NOERROR');
    t.equal(self.answer.length, 1);
  });

  t.test('a CNAME into another served zone is not followed', async (t) => {
    const r = await q('alias.example.org.', 'A');
    t.same(rrs(r.answer).map((rr) => rr.type), ['CNAME']);
  });

  t.test('wildcards: synthesis takes the query name; a wildcard CNAME is followed', async (t) => {
    const two = await q('a.b.w.example.net.', 'TXT');
    t.same(rrs(two.answer).map((rr) => `${rr.name} ${rr.ttl} ${rr.data}`), ['a.b.w.example.net. 900 "wildcard"']);
    const cname = await q('a.wc.example.net.', 'A');
    t.same(rrs(cname.answer).map((rr) => `${rr.name} ${rr.type}`), ['a.wc.example.net. CNAME', 'host.example.net. A']);
    const blocked = await q('z.y.w.example.net.', 'A');
    t.equal(blocked.rcode, 'NXDOMAIN', 'the empty non-terminal y.w blocks *.w');
  });

  t.test('a referral has no AA, NS in authority, glue in additional; none for out-of-zone NS', async (t) => {
    const child = await q('www.child.example.net.', 'A');
    t.equal(child.rcode, 'NOERROR');
    t.notOk(child.flags.includes('aa'));
    t.same(child.answer, []);
    t.same(rrs(child.authority, 'NS').map((rr) => rr.name), ['child.example.net.', 'child.example.net.']);
    t.equal(child.authority.length, 2);
    t.same(rrs(child.additional).map((rr) => `${rr.name} ${rr.type}`).sort(), [
      'ns1.child.example.net. A',
      'ns1.child.example.net. AAAA',
      'ns2.child.example.net. A',
    ]);
    const deleg2 = await q('www.deleg2.example.net.', 'A');
    t.notOk(deleg2.flags.includes('aa'));
    t.same(deleg2.additional, []);
    const atCut = await q('child.example.net.', 'NS');
    t.notOk(atCut.flags.includes('aa'), 'NS at the cut is a referral too');
    t.same(atCut.answer, []);
  });

  t.test('DS at a delegation point is answered by the parent with AA', async (t) => {
    const ds = await q('child.example.net.', 'DS');
    t.ok(ds.flags.includes('aa'));
    t.same(rrs(ds.answer).map((rr) => rr.type), ['DS']);
    const noDs = await q('deleg2.example.net.', 'DS');
    t.ok(noDs.flags.includes('aa'));
    t.same(rrs(noDs.authority).map((rr) => rr.type), ['SOA'], 'NODATA, not a referral');
  });

  t.test('a large answer over UDP with a 512-byte buffer: TC, empty sections; complete over TCP', async (t) => {
    const udp = await q('big.example.net.', 'A', { bufsize: 512, ignoreTc: true });
    t.ok(udp.flags.includes('tc'));
    t.same([udp.answer.length, udp.authority.length, udp.additional.length], [0, 0, 0]);
    const tcp = await q('big.example.net.', 'A', { tcp: true });
    t.notOk(tcp.flags.includes('tc'));
    t.equal(tcp.answer.length, 40);
  });

  t.test('a referral whose glue does not fit in 512 bytes: TC, all NS kept, part of the glue (RFC 9471)', async (t) => {
    const udp = await q('www.bigdeleg.example.net.', 'A', { edns: false, ignoreTc: true });
    t.ok(udp.flags.includes('tc'), describe(udp));
    t.equal(udp.authority.length, 13);
    t.ok(udp.additional.length > 0 && udp.additional.length < 26, `${udp.additional.length} of 26 glue records`);
    const edns = await q('www.bigdeleg.example.net.', 'A');
    t.notOk(edns.flags.includes('tc'));
    t.equal(edns.additional.length, 26, 'all glue fits in 1232 bytes');
  });

  t.test('EDNS version 1 is BADVERS with an OPT of version 0', async (t) => {
    const r = await q('example.net.', 'SOA', { edns: 1 });
    t.equal(r.rcode, 'BADVERS');
    t.equal(r.ednsVersion, 0);
    t.same(r.answer, []);
  });

  t.test('CHAOS id.server and version.bind, other CHAOS names REFUSED', async (t) => {
    const id = await q('id.server.', 'TXT', { qclass: 'CH' });
    t.same(rrs(id.answer).map((rr) => `${rr.class} ${rr.ttl} ${rr.data}`), ['CH 0 "knot-test"']);
    t.notOk(id.flags.includes('aa'));
    const other = await q('example.net.', 'SOA', { qclass: 'CH' });
    t.equal(other.rcode, 'REFUSED');
  });

  t.test('opcodes other than QUERY: NOTIMP, NOTIFY and UPDATE NOTAUTH', async (t) => {
    t.equal((await q('example.net.', 'SOA', { opcode: 2 })).rcode, 'NOTIMP');
    t.equal((await q('example.net.', 'SOA', { opcode: 'NOTIFY' })).rcode, 'NOTAUTH');
  });

  t.test('ANY is answered with one RRset over UDP and TCP', async (t) => {
    const udp = await q('example.net.', 'ANY');
    const tcp = await q('example.net.', 'ANY', { tcp: true });
    t.equal(udp.answer.length, 1, describe(udp));
    t.equal(tcp.answer.length, 1, describe(tcp));
  });

  t.test('a name outside every zone is REFUSED without AA', async (t) => {
    const r = await q('www.example.com.', 'A');
    t.equal(r.rcode, 'REFUSED');
    t.notOk(r.flags.includes('aa'));
  });
});
