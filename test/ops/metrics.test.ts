// What Prometheus scrapes from a node that has answered a few queries of every kind: `promtool check metrics`
// accepts it (the acceptance line `curl -s …/metrics | promtool check metrics`), process metrics carry one
// prefix, and the per-zone, address-family and EDNS counts say what was asked.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { buildQuery } from '../helpers/wire.js';
import { udpExchange } from '../helpers/dns-socket.js';
import { dig } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';

const OPT_NSID = 3;
const OPT_ECS = 8;
/** ECS for 192.0.2.0/24: family 1, source prefix 24, scope 0, three address octets. */
const ECS_V4 = Buffer.from([0, 1, 24, 0, 192, 0, 2]);

const node = await startTestNode({ zonesDir: 'zones', nodeId: 'metrics-node', flags: { dns: '127.0.0.1:0,[::1]:0', geoip: 'none' } });
t.teardown(() => node.close());
const v4 = node.node.dns[0].udp.port;
const v6 = node.node.dns[1].udp.port;

async function scrape(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${node.apiPort}/metrics`);
  return response.text();
}

/** The value of one sample line, e.g. 'edgedns_dns_zone_queries_total{zone="example.com.",rcode="NOERROR"}'; 0 if absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

// Queries of every kind, counted as they are sent.
const ask = (message: Buffer): Promise<Buffer> => udpExchange(v4, message);
await ask(buildQuery('www.example.com.', 1)); // NOERROR, no EDNS
await ask(buildQuery('nothing-here.example.com.', 1)); // NXDOMAIN
await ask(buildQuery('www.example.org.', 1)); // REFUSED: outside every zone
await ask(buildQuery('id.server.', 16, { qclass: 3 })); // CHAOS
await ask(Buffer.from([0x12, 0x34, 0x00, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0])); // two questions: FORMERR
await ask(buildQuery('www.example.com.', 1, { edns: { dnssecOk: true } })); // EDNS + DO
await ask(buildQuery('www.example.com.', 28, { edns: { options: [{ code: OPT_ECS, data: ECS_V4 }] } })); // EDNS + ECS
await ask(buildQuery('www.example.com.', 16, { edns: { options: [{ code: OPT_NSID, data: Buffer.alloc(0) }] } })); // EDNS + NSID
await ask(buildQuery('www.example.net.', 1, { edns: { dnssecOk: true, options: [{ code: OPT_ECS, data: ECS_V4 }, { code: OPT_NSID, data: Buffer.alloc(0) }] } })); // a pool answer, all three
const ednsSent = { opt: 4, do: 2, ecs: 2, nsid: 2 };
// dig sends an OPT record (no DO, no ECS, no NSID) with each question
await dig(v4, 'example.com', 'SOA', { tcp: true });
await dig(v6, 'www.example.com', 'A', { server: '::1' });
await dig(v6, 'www.example.com', 'AAAA', { server: '::1', tcp: true });
ednsSent.opt += 3;
await fetch(`http://127.0.0.1:${node.apiPort}/healthz`);
await fetch(`http://127.0.0.1:${node.apiPort}/v1/zones`); // 401: no key
await fetch(`http://127.0.0.1:${node.httpPort}/`, { headers: { host: 'unknown.example' } });

t.test('promtool check metrics accepts /metrics of a node that answered queries of every kind', async (t) => {
  const promtool = requireTool('promtool');
  const text = await scrape();
  const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  t.equal(check.status, 0, `promtool check metrics exits 0:\n${check.stdout}${check.stderr}`);
  t.equal(`${check.stdout}${check.stderr}`.trim(), '', 'and finds nothing to lint');
  // the same check sees a bad exposition: the test can fail
  const bad = spawnSync(promtool, ['check', 'metrics'], { input: '# TYPE edgedns_x_total gauge\nedgedns_x_total 1\n', encoding: 'utf8', timeout: 20_000 });
  t.not(bad.status, 0, 'promtool refuses a gauge named _total');
});

t.test('process metrics carry one prefix, and no gauge ends in _total', async (t) => {
  const text = await scrape();
  t.match(text, /^edgedns_process_cpu_seconds_total \d/m);
  t.match(text, /^edgedns_process_resident_memory_bytes \d/m);
  t.match(text, /^edgedns_nodejs_heap_size_used_bytes \d/m);
  t.notMatch(text, /edgedns_process_process_|edgedns_process_nodejs_/, 'no doubled prefix');
  const gauges = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]);
  t.same(gauges.filter((name) => name.endsWith('_total')), [], 'no gauge named like a counter');
});

t.test('queries are counted per served zone, with an other bucket for the rest', async (t) => {
  const text = await scrape();
  // www.example.com A (x2 with DO), AAAA with ECS, TXT with NSID, SOA over TCP, A and AAAA over IPv6
  t.equal(sample(text, 'edgedns_dns_zone_queries_total{zone="example.com.",rcode="NOERROR"}'), 7);
  t.equal(sample(text, 'edgedns_dns_zone_queries_total{zone="example.com.",rcode="NXDOMAIN"}'), 1);
  t.equal(sample(text, 'edgedns_dns_zone_queries_total{zone="example.net.",rcode="NOERROR"}'), 1);
  t.equal(sample(text, 'edgedns_dns_zone_queries_total{zone="other",rcode="REFUSED"}'), 1, 'the name outside every zone');
  t.equal(sample(text, 'edgedns_dns_zone_queries_total{zone="other",rcode="NOERROR"}'), 1, 'CHAOS id.server');
  t.equal(sample(text, 'edgedns_dns_zone_queries_total{zone="other",rcode="FORMERR"}'), 1, 'the unreadable question');

  const removed = await node.api('DELETE', '/v1/zones/example.net');
  t.equal(removed.status, 204, 'example.net deleted');
  await waitFor(async () => !/zone="example\.net\."/.test(await scrape()), { what: 'the deleted zone to leave /metrics', timeoutMs: 5000 });
  t.pass('a zone no longer served leaves no series behind');
});

t.test('queries are counted by address family and transport', async (t) => {
  const text = await scrape();
  t.equal(sample(text, 'edgedns_dns_queries_total{transport="udp",family="ipv6",qtype="A",rcode="NOERROR"}'), 1);
  t.equal(sample(text, 'edgedns_dns_queries_total{transport="tcp",family="ipv6",qtype="AAAA",rcode="NOERROR"}'), 1);
  t.equal(sample(text, 'edgedns_dns_queries_total{transport="tcp",family="ipv4",qtype="SOA",rcode="NOERROR"}'), 1);
  t.equal(sample(text, 'edgedns_dns_queries_total{transport="udp",family="ipv4",qtype="A",rcode="NOERROR"}'), 3);
});

t.test('EDNS, DO, ECS and NSID presence is counted', async (t) => {
  const text = await scrape();
  for (const [feature, count] of Object.entries(ednsSent)) {
    t.equal(sample(text, `edgedns_dns_edns_queries_total{feature="${feature}"}`), count, `${feature}: ${count} queries`);
  }
});
