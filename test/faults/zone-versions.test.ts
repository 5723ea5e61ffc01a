// Issue 13: a change of many RRsets is served all at once. Right after a replace, an import or a PowerDNS PATCH
// returns, every name answers the new data (before: thousands of names still answered the old data for seconds),
// and a version whose zone document arrives before its RRsets (replication keeps no order) is held until the last
// of them is here, with the wait visible in the metrics.

import t from 'tap';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';
import { planSave } from '../../src/zone/zone-writer.js';
import { startTestNode } from '../helpers/node.js';
import { waitFor } from '../helpers/wait-for.js';
import { sampleNames, tally } from './sample-names.js';

const HOSTS = 3000;
const names = Array.from({ length: HOSTS }, (_, i) => `h${i}.big.test.`);

function zoneText(address: (i: number) => string): string {
  const lines = ['$ORIGIN big.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 7200 900 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.250'];
  for (let i = 0; i < HOSTS; i++) lines.push(`h${i} A ${address(i)}`);
  return lines.join('\n') + '\n';
}

const node = await startTestNode({ zoneTexts: { 'big.test.zone': zoneText(() => '192.0.2.1') } });
t.teardown(() => node.close());

async function metric(name: string): Promise<number> {
  return (await node.metric(name)) ?? 0;
}

const zoneFile = (text: string) => ({ body: text, headers: { 'content-type': 'text/dns' } });

t.test('before any change every name answers the imported data', async (t) => {
  t.same(tally(await sampleNames(node.dnsPort, names)), { '192.0.2.1': HOSTS });
});

t.test('right after a replace of 3,000 RRsets returns, every name answers the new data', async (t) => {
  const response = await node.api('POST', '/v1/zones?replace=true', zoneFile(zoneText(() => '198.51.100.7')));
  t.equal(response.status, 200, JSON.stringify(response.body));
  t.equal(response.body.served, true, 'the call returns once this node serves the new version');
  t.same(tally(await sampleNames(node.dnsPort, names)), { '198.51.100.7': HOSTS }, 'no name answers the old address');
});

t.test('a replace sampled while it is written shows the old version, then the new one, never a mix in one pass', async (t) => {
  const passes: Record<string, number>[] = [];
  let writing = true;
  const sampler = (async () => {
    // A pass asks a few names spread over the zone; each pass takes a few milliseconds.
    const spread = names.filter((_, i) => i % 300 === 0);
    for (let i = 0; i < 2000 && writing; i++) passes.push(tally(await sampleNames(node.dnsPort, spread)));
  })();
  const response = await node.api('POST', '/v1/zones?replace=true', zoneFile(zoneText(() => '203.0.113.9')));
  writing = false;
  await sampler;
  t.equal(response.status, 200);
  const mixed = passes.filter((counts) => Object.keys(counts).length > 1);
  // A pass that straddles the switch can see both; the switch is one step, so at most one pass can.
  t.ok(mixed.length <= 1, `${passes.length} passes, ${mixed.length} with two addresses (first: ${JSON.stringify(mixed.slice(0, 2))})`);
  t.ok(passes.every((counts) => Object.keys(counts).every((address) => address === '198.51.100.7' || address === '203.0.113.9')), 'only the two versions were ever answered');
});

t.test('right after a PowerDNS PATCH of 500 RRsets returns, every one of them answers the new data', async (t) => {
  const changed = names.slice(0, 500);
  const rrsets = changed.map((name) => ({ name, type: 'A', ttl: 300, changetype: 'REPLACE', records: [{ content: '198.51.100.42', disabled: false }] }));
  const response = await node.api('PATCH', '/api/v1/servers/localhost/zones/big.test.', { body: { rrsets } });
  t.equal(response.status, 204, JSON.stringify(response.body));
  const answers = await sampleNames(node.dnsPort, names);
  t.same(tally(new Map(changed.map((name) => [name, answers.get(name) as string]))), { '198.51.100.42': 500 });
  t.same(tally(new Map(names.slice(500).map((name) => [name, answers.get(name) as string]))), { '203.0.113.9': HOSTS - 500 }, 'the rest is untouched');
});

t.test('a version whose zone document arrives before its RRsets is held until the last one is here', async (t) => {
  const { store } = node.node;
  const before = await metric('edgedns_zone_versions_total{result="complete"}');
  const zone = parseZoneFile(zoneText((i) => `198.18.${i >> 8}.${i & 255}`), {});
  const { docs, result } = await planSave(store, zone, { replace: true });
  // What replication may do: the zone document first, the RRsets after it, in pieces.
  const zoneDoc = docs.pop();
  await store.bulk([zoneDoc!]);
  const pieces = 4;
  const size = Math.ceil(docs.length / pieces);
  t.equal(await metric('edgedns_zone_versions_waiting'), 0, 'the zone document alone holds nothing back');
  for (let piece = 0; piece < pieces; piece++) {
    await store.bulk(docs.slice(piece * size, (piece + 1) * size));
    if (piece === pieces - 1) break;
    await waitFor(async () => (await heldDocuments()) >= (piece + 1) * size, { what: `piece ${piece + 1} of ${pieces} held back (/healthz zoneVersions)`, timeoutMs: 15_000, intervalMs: 20 });
    t.pass(`piece ${piece + 1} of ${pieces} arrives and is held (/healthz says so)`);
    t.equal(await metric('edgedns_zone_versions_waiting'), 1, 'the zone is counted as waiting');
    const counts = tally(await sampleNames(node.dnsPort, names));
    t.same(Object.keys(counts).sort(), ['198.51.100.42', '203.0.113.9'], `with ${piece + 1} of ${pieces} pieces here the previous version is still answered whole`);
  }
  await waitFor(() => node.node.catalog.get('big.test.')?.soaSerial === result.serial, { what: `serial ${result.serial} served`, timeoutMs: 15_000, intervalMs: 20 });
  t.pass(`the new version (serial ${result.serial}) is served once its last RRset is here`);
  const answers = await sampleNames(node.dnsPort, names);
  t.ok(names.every((name, i) => answers.get(name) === `198.18.${i >> 8}.${i & 255}`), 'every name answers the new version');
  t.equal(await metric('edgedns_zone_versions_waiting'), 0);
  t.equal(await metric('edgedns_zone_versions_total{result="complete"}'), before + 1);
});

/** Documents the node holds back for big.test., as /healthz says. */
async function heldDocuments(): Promise<number> {
  const { body } = await node.api('GET', '/healthz');
  return (body.zoneVersions.waiting as { zone: string; documents: number }[]).find((w) => w.zone === 'big.test.')?.documents ?? 0;
}
