// The acceptance steps, as an operator runs them with dig against a node started like `npm start`.

import t from 'tap';
import path from 'node:path';
import { dig } from './helpers/dig.js';
import { spawnEdgedns } from './helpers/spawn-edgedns.js';

const node = await spawnEdgedns({ zonesDir: path.resolve('zones'), nodeId: 'edge-ams-1' });
t.teardown(() => node.stop());
const port = node.dnsPort;

t.test('names in the sample zone answer with aa and without ra', async (t) => {
  for (const [name, type] of [['example.com', 'SOA'], ['example.com', 'NS'], ['www.example.com', 'A'], ['example.com', 'MX'], ['_sip._tcp.example.com', 'SRV']]) {
    const r = await dig(port, name, type);
    t.equal(r.rcode, 'NOERROR', `${name} ${type}`);
    t.ok(r.flags.includes('aa'), `${name} ${type} has aa`);
    t.notOk(r.flags.includes('ra'), 'no ra');
    t.ok(r.answer.length > 0, `${name} ${type} has an answer`);
  }
});

t.test('a missing name is NXDOMAIN with the SOA in authority', async (t) => {
  const r = await dig(port, 'does-not-exist.example.com', 'A');
  t.equal(r.rcode, 'NXDOMAIN');
  t.ok(r.flags.includes('aa'));
  t.equal(r.answer.length, 0);
  t.equal(r.authority.length, 1);
  t.equal(r.authority[0]?.type, 'SOA');
});

t.test('a zone we do not serve is REFUSED without aa', async (t) => {
  const r = await dig(port, 'example.org', 'A');
  t.equal(r.rcode, 'REFUSED');
  t.notOk(r.flags.includes('aa'));
});

t.test('+tcp works', async (t) => {
  const r = await dig(port, 'www.example.com', 'A', { tcp: true });
  t.equal(r.rcode, 'NOERROR');
  t.ok(r.answer.length > 0);
});

t.test('+bufsize=512 on a large RRset sets tc; +tcp returns every record', async (t) => {
  const udp = await dig(port, 'big.example.com', 'TXT', { bufsize: 512, ignoreTc: true });
  t.ok(udp.flags.includes('tc'), 'tc set');
  const tcp = await dig(port, 'big.example.com', 'TXT', { tcp: true });
  t.notOk(tcp.flags.includes('tc'));
  t.equal(tcp.answer.length, 20, 'all 20 records over TCP');
});

t.test('CH TXT id.server and hostname.bind give the node id', async (t) => {
  for (const name of ['id.server', 'hostname.bind']) {
    const r = await dig(port, name, 'TXT', { qclass: 'CH' });
    t.equal(r.rcode, 'NOERROR');
    t.equal(r.answer[0]?.data, '"edge-ams-1"');
  }
  const version = await dig(port, 'version.bind', 'TXT', { qclass: 'CH' });
  t.equal(version.rcode, 'REFUSED', 'version.bind is refused unless configured');
});

t.test('EDNS: OPT echoed with our size; version 1 gets BADVERS', async (t) => {
  const r = await dig(port, 'www.example.com', 'A', { bufsize: 4096 });
  t.equal(r.opt?.udp, 1232);
  const bad = await dig(port, 'www.example.com', 'A', { edns: 1 });
  t.equal(bad.rcode, 'BADVERS');
});

t.test('ANY is answered with one RRset (RFC 8482)', async (t) => {
  const r = await dig(port, 'example.com', 'ANY');
  t.equal(r.rcode, 'NOERROR');
  t.equal(new Set(r.answer.map((rr) => rr.type)).size, 1);
});

t.test('/healthz and /metrics answer', async (t) => {
  const health = (await (await fetch(`http://127.0.0.1:${node.apiPort}/healthz`)).json()) as { status: string; node: string; zones: number };
  t.same({ status: health.status, node: health.node, zones: health.zones }, { status: 'ok', node: 'edge-ams-1', zones: 2 }); // example.com and the geo sample example.net
  const metrics = await (await fetch(`http://127.0.0.1:${node.apiPort}/metrics`)).text();
  t.match(metrics, /edgedns_dns_queries_total\{transport="udp",family="ipv4",qtype="A",rcode="NOERROR"\}/);
});
