// Response rate limiting (issue 12): a flood of identical queries from one network is held to the rate with slip,
// while another network is answered as usual; NXDOMAIN floods count per zone; TCP is never limited; loopback and
// listed networks are never limited; one log line per limited network. Scaled to seconds; bench/rrl-flood.ts runs
// the full-size attack (~50k queries/s for 10 s).

import t from 'tap';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Rcode, Type } from '../../src/proto/constants.js';
import { ResponseClass } from '../../src/dns/response-class.js';
import { ResponseRateLimiter, Verdict } from '../../src/dns/rrl.js';
import { decodeMessage } from '../helpers/decode.js';
import { buildQuery } from '../helpers/wire.js';
import { askFrom } from './tcp-clients.js';
import { startTestNode } from '../helpers/node.js';
import { askUdpFrom, flood, steadyClient } from './udp-flood.js';

const ZONE = path.resolve('zones/example.com.zone');
const www = buildQuery('www.example.com.', Type.A, { edns: { udpSize: 1232 } });
const legit = [buildQuery('example.com.', Type.SOA), buildQuery('mail.example.com.', Type.A), buildQuery('nope.example.com.', Type.A), buildQuery('x.apps.example.com.', Type.A)];
const FLOODERS = ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4'];

t.test('a flood from one /24 is held to the rate with every 2nd limited answer slipped; another /24 is answered', async (t) => {
  const rate = 50;
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'rrl-rate': String(rate), 'rrl-slip': '2', 'rrl-whitelist': 'none' } });
  t.teardown(() => server.close());
  const [attack, client] = await Promise.all([
    flood(server.dnsPort, FLOODERS, www, 4000, 2000),
    steadyClient(server.dnsPort, '127.0.2.1', legit, 20, 2000),
  ]);
  const limitedDropped = await server.metricTotal('edgedns_dns_rrl_limited_total', { class: 'answer', action: 'dropped' });
  const limitedSlipped = await server.metricTotal('edgedns_dns_rrl_limited_total', { class: 'answer', action: 'slipped' });
  t.comment(`flood: ${attack.sent} sent in ${attack.ms.toFixed(0)} ms, ${attack.answered} answered, ${attack.truncated} truncated; limited: ${limitedDropped} dropped, ${limitedSlipped} slipped`);
  t.comment(`127.0.2.1: ${client.asked} asked, ${client.answered} answered, ${client.truncated} truncated, ${client.unanswered} unanswered`);
  // one second of burst, then the rate (a little slack for the time the replies take)
  const allowed = rate + (rate * (attack.ms + 300)) / 1000;
  t.ok(attack.answered <= allowed, `${attack.answered} full answers reached the flooding network, at most ${allowed.toFixed(0)} allowed`);
  t.ok(attack.answered >= rate, 'the flow got its rate');
  t.ok(attack.sent - attack.answered > attack.sent * 0.8, 'most of the flood was limited');
  t.ok(Math.abs(limitedSlipped - limitedDropped) <= 1, 'every second limited response slipped');
  t.ok(attack.truncated >= limitedSlipped * 0.5 && attack.truncated <= limitedSlipped, `slipped responses reached the client as TC=1 (${attack.truncated} of ${limitedSlipped})`);
  t.ok(client.asked >= 5, 'the other network asked throughout');
  t.equal(client.answered, client.asked, 'and every one of its queries was answered in full');
  const warnings = server.logLines().filter((l) => l.msg === 'response rate limit: dropping or truncating UDP answers to this network');
  t.equal(warnings.length, 1, 'one log line for the limited network');
  t.equal(warnings[0]?.network, '127.0.1.0/24');
});

t.test('a slipped reply is the question with TC=1 and no records, and TCP from the same address is answered', async (t) => {
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'rrl-rate': '1', 'rrl-slip': '1', 'rrl-whitelist': 'none' } });
  t.teardown(() => server.close());
  const attack = await flood(server.dnsPort, ['127.0.1.5'], www, 1000, 500);
  t.ok(attack.answered <= 3, `${attack.answered} full answers at 1 per second`);
  t.ok(attack.truncated > 300, `slip 1: every limited response slipped (${attack.truncated})`);
  const slipped = decodeMessage(await askUdpFrom(server.dnsPort, '127.0.1.5', www));
  t.ok(slipped.header.tc && slipped.header.qr, 'TC=1');
  t.equal(slipped.header.rcode, Rcode.NOERROR);
  t.equal(slipped.qname, 'www.example.com.', 'the question echoed');
  t.same([slipped.answer.length, slipped.authority.length], [0, 0], 'no records');
  t.equal(slipped.opt?.udpSize, 1232, 'OPT as in any reply to an EDNS query');
  const { reply } = await askFrom(server.dnsPort, '127.0.1.5', www);
  const msg = decodeMessage(reply);
  t.equal(msg.header.rcode, Rcode.NOERROR);
  t.ok(msg.answer.length > 0 && !msg.header.tc, 'TCP is never limited');
});

t.test('a random-subdomain NXDOMAIN flood is one flow for the zone; answers to that network go on', async (t) => {
  const rate = 20;
  const server = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'rrl-rate': String(rate), 'rrl-slip': '0', 'rrl-whitelist': 'none' } });
  t.teardown(() => server.close());
  const random = Array.from({ length: 2000 }, (_, i) => buildQuery(`r${i}-${Math.floor(Math.random() * 1e9)}.example.com.`, Type.A));
  const nx = await flood(server.dnsPort, ['127.0.1.6', '127.0.1.7'], random, 2000, 1000);
  const nxLimited = await server.metricTotal('edgedns_dns_rrl_limited_total', { class: 'nxdomain' });
  t.comment(`NXDOMAIN for ${nx.sent} different names: ${nx.answered} answered, ${nxLimited} limited`);
  t.ok(nx.answered <= rate + (rate * (nx.ms + 300)) / 1000, 'every name under the zone shared one NXDOMAIN flow');
  t.equal(await server.metricTotal('edgedns_dns_rrl_limited_total', { action: 'slipped' }), 0, 'slip 0: none slipped');
  t.equal(nx.truncated, 0);
  const answers = await steadyClient(server.dnsPort, '127.0.1.8', [www], 100, 500);
  t.equal(answers.answered, answers.asked, 'answers to the same /24 are another flow, still sent');
});

t.test('loopback is never limited by default; --rrl-whitelist replaces the list', async (t) => {
  const byDefault = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'rrl-rate': '10' } });
  t.teardown(() => byDefault.close());
  const local = await flood(byDefault.dnsPort, ['127.0.1.9'], www, 1000, 300);
  t.ok(local.answered >= local.sent * 0.95, `default: loopback answered (${local.answered}/${local.sent})`);
  t.equal(await byDefault.metricTotal('edgedns_dns_rrl_limited_total'), 0);

  const listed = await startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'rrl-rate': '10', 'rrl-whitelist': '127.0.4.0/24, 192.0.2.0/24' } });
  t.teardown(() => listed.close());
  const allowed = await flood(listed.dnsPort, ['127.0.4.1'], www, 1000, 300);
  const other = await flood(listed.dnsPort, ['127.0.3.1'], www, 1000, 300);
  t.ok(allowed.answered >= allowed.sent * 0.95, `listed network answered (${allowed.answered}/${allowed.sent})`);
  t.ok(other.answered <= 20, `unlisted loopback network limited (${other.answered}/${other.sent})`);
});

t.test('the bucket table is bounded: a spoofed spread of networks replaces old buckets', async (t) => {
  const registry = new Registry();
  const rrl = new ResponseRateLimiter({ rate: 1, slip: 0, whitelist: [], tableSize: 64, registry, logger: pino({ level: 'silent' }) });
  for (let i = 0; i < 10_000; i++) rrl.check(`10.${(i >> 8) & 255}.${i & 255}.1`, ResponseClass.ANSWER, 'www.example.com.', 1, i);
  const json = await registry.getMetricsAsJSON();
  const entries = json.find((m) => m.name === 'edgedns_dns_rrl_table_entries')!.values[0].value;
  const evictions = json.find((m) => m.name === 'edgedns_dns_rrl_evictions_total')!.values[0].value;
  t.ok(entries <= 64, `${entries} buckets in a 64-bucket table`);
  t.ok(evictions > 9_000, `${evictions} buckets replaced`);
});

t.test('flows: IPv4 /24 and IPv6 /56 networks, class and type apart', async (t) => {
  const rrl = new ResponseRateLimiter({ rate: 1, slip: 0, whitelist: ['2001:db8:ffff::/48'], registry: new Registry(), logger: pino({ level: 'silent' }) });
  const now = 1000;
  const check = (remote: string, kind = ResponseClass.ANSWER as number, name = 'www.example.com.', qtype = 1): number =>
    rrl.check(remote, kind as 0, name, qtype, now);
  t.equal(check('192.0.2.1'), Verdict.SEND, 'first response of a flow');
  t.equal(check('192.0.2.200'), Verdict.DROP, 'same /24: same flow, over the rate');
  t.equal(check('192.0.3.1'), Verdict.SEND, 'another /24');
  t.equal(check('::ffff:192.0.3.9'), Verdict.DROP, 'IPv4-mapped IPv6 is the IPv4 network');
  t.equal(check('192.0.2.1', ResponseClass.ANSWER, 'www.example.com.', 28), Verdict.SEND, 'another type');
  t.equal(check('192.0.2.1', ResponseClass.NXDOMAIN, 'example.com.'), Verdict.SEND, 'another class');
  t.equal(check('2001:db8:0:1ff::1'), Verdict.SEND);
  t.equal(check('2001:db8:0:100::2'), Verdict.DROP, 'same IPv6 /56');
  t.equal(check('2001:db8:0:200::1'), Verdict.SEND, 'another /56');
  t.equal(check('2001:db8:ffff::1'), Verdict.SEND);
  t.equal(check('2001:db8:ffff::1'), Verdict.SEND, 'whitelisted: never limited');
  t.equal(check('not an address'), Verdict.SEND, 'an address it cannot read is not limited');
  t.equal(rrl.check('192.0.2.1', ResponseClass.ANSWER, 'www.example.com.', 1, now + 1000), Verdict.SEND, 'a second later the bucket has refilled');
});

t.test('bad --rrl-* values are refused with the flag named', async (t) => {
  await t.rejects(startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'rrl-whitelist': '10.0.0.1/33' } }), /--rrl-whitelist/);
  await t.rejects(startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'rrl-slip': '11' } }), /--rrl-slip/);
  await t.rejects(startTestNode({ zoneFiles: [ZONE], logLevel: 'warn', flags: { geoip: 'none', 'rrl-rate': '-1' } }), /--rrl-rate/);
});

