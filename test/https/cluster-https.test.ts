// Issue 14's end-to-end story: two nodes, each on its own CouchDB-protocol server, meshed; pebble is the CA and
// validates DNS-01 against edgedns's own DNS. A deploy on A is enough for B to serve the site over HTTPS with a
// certificate pebble issued; a node whose view has not caught up with that certificate yet does not order the name
// again; a forced renewal on A reaches B's listener without a restart; two nodes told to order the same name at the
// same moment place one order; and no private key is in the store in clear.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { connect } from 'node:tls';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { CertManager } from '../../src/acme/cert-manager.js';
import { parseCommandLine } from '../../src/cli/args.js';
import { clusterCommand, CLUSTER_OPTIONS } from '../../src/cli/cluster-commands.js';
import type { RunningNode } from '../../src/node/node.js';
import { isSealedValue } from '../../src/secrets/aead.js';
import { ClusterSecrets } from '../../src/secrets/cluster-secrets.js';
import { Keyring, readKeyFile } from '../../src/secrets/key-file.js';
import { CertIndex } from '../../src/tls/cert-index.js';
import { Catalog } from '../../src/zone/catalog.js';
import { ZoneSync } from '../../src/zone/zone-sync.js';
import { startTestNode } from '../helpers/node.js';
import { run, startPebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';
import { requireTool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait-for.js';
import { deployTree, type ApiTarget } from '../pages/pages-helpers.js';

const SITE = 'www.https.test';
const ZONE = `$ORIGIN https.test.
$TTL 300
@    SOA ns1 hostmaster 1 3600 600 86400 60
@    NS  ns1
@    NS  ns2
ns1  A   127.0.0.1
ns2  A   127.0.0.2
www  A   127.0.0.1
`;

const curl = requireTool('curl');
requireTool('pebble');
const work = await mkdtemp(path.join(os.tmpdir(), 'edgedns-https-'));
t.teardown(() => rm(work, { recursive: true, force: true }));

// One DNS port for both nodes, on two loopback addresses: the zone's two nameservers, as pebble and the
// nameserver check reach them.
const dnsPort = await freePort();
const pebble = await startPebble(dnsPort);
t.teardown(() => pebble.stop());
const pebbleTls = await readFile(pebble.caFile, 'utf8');
const rootPem = await new Promise<string>((resolve, reject) => {
  const req = httpsRequest(`${pebble.managementUrl}/roots/0`, { ca: [pebbleTls] }, (res) => {
    let body = '';
    res.on('data', (d: Buffer) => (body += d.toString()));
    res.on('end', () => resolve(body));
  });
  req.on('error', reject);
  req.end();
});
const rootFile = path.join(work, 'pebble-root.pem');
await writeFile(rootFile, rootPem);

const servers: PouchServer[] = [await startPouchServer({ inMemory: true }), await startPouchServer({ inMemory: true })];
t.teardown(() => Promise.all(servers.map((s) => s.destroy())));

interface ClusterNode extends ApiTarget {
  node: RunningNode;
  address: string;
  dataDir: string;
  key: string;
}

async function startClusterNode(name: string, db: PouchServer, address: string, options: { zone?: boolean; keyFrom?: string }): Promise<ClusterNode> {
  const started = await startTestNode({
    nodeId: name,
    host: address,
    dnsPort,
    zoneTexts: options.zone ? { 'https.test.zone': ZONE } : {},
    // Adding a node: copy the cluster's key file before its first start (docs/https.md).
    dataFiles: options.keyFrom ? { 'secrets.key': options.keyFrom } : {},
    flags: { couchdb: db.url, 'acme-directory': pebble.directory, 'acme-ca-file': pebble.caFile, 'acme-ns-port': String(dnsPort) },
  });
  t.teardown(() => started.close());
  return { node: started.node, api: started.api, address, dataDir: started.dataDir, key: started.adminKey };
}

const a = await startClusterNode('https-a', servers[0] as PouchServer, '127.0.0.1', { zone: true });
const b = await startClusterNode('https-b', servers[1] as PouchServer, '127.0.0.2', { keyFrom: path.join(a.dataDir, 'secrets.key') });

async function cluster(db: PouchServer, ...argv: string[]): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await clusterCommand(parseCommandLine('cluster', [...argv, '--couchdb', db.url], CLUSTER_OPTIONS), out);
  return text;
}

/** curl as a visitor would, with pebble's root trusted and the name resolved to the node. */
async function curlSite(n: ClusterNode): Promise<{ code: number | null; output: string }> {
  const port = n.node.pages.https?.port as number;
  return run(curl, ['-sS', '--max-time', '3', '--cacert', rootFile, '--resolve', `${SITE}:${port}:${n.address}`, `https://${SITE}:${port}/`], { timeoutMs: 5000 });
}

/** The serial of the certificate a node's listener presents for the site. */
function servedSerial(n: ClusterNode): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: n.address, port: n.node.pages.https?.port as number, servername: SITE, ca: rootPem, timeout: 3000 }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** POST /v1/certs/SITE/renew: the lease's settling time and the order can pass the shared helper's 10 s timeout. */
async function renew(n: ClusterNode): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- the route's JSON
  const response = await fetch(`http://127.0.0.1:${n.node.api.port}/v1/certs/${SITE}/renew`, { method: 'POST', headers: { 'x-api-key': n.key }, signal: AbortSignal.timeout(90_000) });
  return { status: response.status, body: await response.json() };
}

const newOrders = (): number => (pebble.logs().match(/POST \/order-plz/g) ?? []).length;

/**
 * Waits until no node is renewing SITE as `n` sees it (`edgedns cert list` there): an order under way holds the
 * name's lease until its certificate is written, and the node that won the first order may still be freeing it.
 */
async function noneRenewing(n: ClusterNode, name: string): Promise<void> {
  await waitFor(async () => (await n.api('GET', '/v1/certs')).body.certificates.some((c: { name: string; renewingBy: string | null }) => c.name === SITE && c.renewingBy === null), {
    what: `no node renewing ${SITE}, as ${name} sees it`,
    timeoutMs: 20_000,
  });
}

t.test('a deploy on A is served over HTTPS by B with a certificate pebble issued', async (t) => {
  t.match(await cluster(servers[0] as PouchServer, 'join', (servers[1] as PouchServer).url), /2 replication\(s\) created/);
  const started = Date.now();
  const { result } = await deployTree(a, SITE, { 'index.html': '<h1>over https</h1>' });
  t.equal(result.status, 201, JSON.stringify(result.body));
  await waitFor(async () => (await curlSite(b)).output === '<h1>over https</h1>', { what: `B serving ${SITE} over HTTPS`, timeoutMs: 60_000, intervalMs: 250 });
  t.pass(`B serves ${SITE} over HTTPS ${Date.now() - started} ms after the deploy on A`);
  t.comment(`deploy on A to HTTPS on B: ${Date.now() - started} ms`);
  t.equal(newOrders(), 1, 'one order for the name, though both nodes want it');
  const metric = async (n: ClusterNode): Promise<string> => (await n.node.registry.metrics()).split('\n').filter((l) => l.startsWith('edgedns_acme_orders_total{result="ok"}')).join();
  t.match((await metric(a)) + (await metric(b)), /result="ok"\} 1/, 'edgedns_acme_orders_total counts it');
  t.match(await b.node.registry.metrics(), new RegExp(`edgedns_tls_cert_expiry_timestamp_seconds\\{host="${SITE.replace(/\./g, '\\.')}"\\} \\d+`));
});

t.test('a node whose view lags the store does not order a name another node has just certified', async (t) => {
  // The race seen under load: B's manager found the site's name due (its certificate index had not applied A's
  // certificate yet), and by the time it read the lease, A had written the certificate and freed the lease; B took
  // the lease and, after settling, would order the name a second time. Here that lagging view is a certificate index
  // that has not started, beside B's store, which holds A's certificate and the freed lease.
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const store = b.node.store;
  const sync = new ZoneSync({ store, catalog: new Catalog(), logger, registry });
  await sync.start();
  t.teardown(() => sync.stop());
  const secrets = await ClusterSecrets.open({ store, file: path.join(b.dataDir, 'secrets.key'), logger, registry });
  t.teardown(() => secrets.close());
  const manager = new CertManager({
    store,
    secrets,
    certs: new CertIndex(store, secrets, logger, registry),
    sync,
    config: { ttl: 60, lifetimeMs: 3_600_000, directoryUrl: pebble.directory, caFile: pebble.caFile, nsPort: dnsPort },
    challenges: { ttl: 60, lifetimeMs: 3_600_000 },
    nodeId: 'https-lagging',
    logger,
    registry,
    wantedNames: () => [SITE],
  });
  await noneRenewing(b, 'B');
  t.same(manager.dueNames(), [SITE], 'by its own view, the name has no certificate yet');
  const orders = newOrders();
  const lease = await store.get(`lease/acme/${SITE}`);
  t.same(await manager.order(SITE, false), { status: 'current' }, 'the store holds a current certificate: no order');
  t.equal(newOrders(), orders, 'pebble received no new order');
  t.equal((await store.get(`lease/acme/${SITE}`))?._rev, lease?._rev, 'the free lease was not taken');
});

t.test('a forced renewal on A reaches B without a restart', async (t) => {
  // A renewal under way on another node is answered 409 lease_held (its certificate is the fresh one): an operator,
  // and this test, renew once `cert list` shows no node renewing the name.
  const orders = newOrders();
  await noneRenewing(a, 'A');
  const before = await servedSerial(b);
  const renewed = await renew(a);
  t.equal(renewed.status, 200, JSON.stringify(renewed.body));
  if (renewed.status !== 200) return; // no new certificate to wait for on B
  t.not(renewed.body.serial, before, 'a new certificate');
  t.equal(newOrders() - orders, 1, "one order since the last test: the renewal's");
  const { ms } = await waitFor(async () => (await servedSerial(b)) === renewed.body.serial, { what: "B presenting A's renewed certificate", timeoutMs: 20_000 });
  t.pass(`B presents the new certificate ${ms} ms after A wrote it`);
});

t.test('two nodes told to order the same name at the same moment place one order', async (t) => {
  const orders = newOrders();
  const results = await Promise.all([a, b].map(renew));
  t.same(results.map((r) => r.status).sort(), [200, 409], JSON.stringify(results.map((r) => r.body)));
  t.match(results.find((r) => r.status === 409)?.body, { error: { code: 'lease_held' } }, 'the other is told who holds the lease');
  t.equal(newOrders() - orders, 1, 'pebble received exactly one new order');
});

t.test('the store holds no private key in clear', async (t) => {
  const keyring = new Keyring('secrets.key', (await readKeyFile(path.join(a.dataDir, 'secrets.key'))) ?? []);
  const doc = await a.node.store.get(`cert/${SITE}`);
  t.ok(doc && isSealedValue(doc.secret), 'the certificate document holds a sealed key');
  const keyPem = keyring.open(doc?.secret as never, `cert/${SITE}`);
  const keyBody = keyPem.replace(/-----[^-]+-----|\s/g, '');
  for (const db of servers) {
    const raw = await (await fetch(`${db.url}edgedns_data/_all_docs?include_docs=true&conflicts=true`)).text();
    t.ok(raw.includes(`cert/${SITE}`), 'the dump holds the certificate document');
    t.notOk(raw.includes('PRIVATE KEY'), `no PEM private key in ${db.url}`);
    t.notOk(raw.includes(keyBody.slice(0, 32)), 'nor the key bytes (base64) of the served certificate');
    t.notOk(raw.includes(Buffer.from(keyBody, 'base64').toString('hex').slice(0, 32)), 'nor in hex');
  }
});
