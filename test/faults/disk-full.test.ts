// Issue 13, item 6: a full disk. The node's data directory is a small tmpfs mounted by the test (root only: a real
// ENOSPC from the kernel, no injected fault), filled up with a file the test then deletes. Writes answer 507 with the
// reason and health says degraded; once space returns, writes work again without a restart (LevelDB keeps failing
// after a failed compaction until it is reopened). A node restarted on a full disk still answers DNS from its
// snapshot, and opens its store once there is room.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startTestNode } from '../helpers/node.js';
import { waitFor } from '../helpers/wait-for.js';
import { ask, health, healthz, sleep } from './fault-helpers.js';

const ZONE = ['$ORIGIN example.org.', '$TTL 60', '@ IN SOA ns1 hostmaster 1 7200 1800 1209600 300', '  IN NS ns1', 'ns1 IN A 192.0.2.53', 'mail IN A 192.0.2.25', ''].join('\n');

if (process.getuid?.() !== 0) throw new Error('the disk-full tests mount a small tmpfs and need root (CI runs as root); run them as root');

const mountPoint = await mkdtemp(path.join(os.tmpdir(), 'edgedns-tmpfs-'));
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint]);
let mounted = true;
const unmount = (): void => {
  if (!mounted) return;
  mounted = false;
  execFileSync('umount', ['-l', mountPoint]);
};
// Also when the setup below throws (tap does not tear down after a failed top-level await).
process.once('exit', unmount);
t.teardown(async () => {
  unmount();
  await rm(mountPoint, { recursive: true, force: true });
});
const dataDir = path.join(mountPoint, 'data');
await mkdir(dataDir);
const filler = path.join(mountPoint, 'filler');

/** Fills the file system but `leave` bytes. */
async function fill(leave: number): Promise<void> {
  const { bavail, bsize } = statfsSync(mountPoint);
  await writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - leave)));
}

const node = await startTestNode({ nodeId: 'full', dataDir, zoneTexts: { 'example.org.zone': ZONE } });
t.teardown(() => node.close());

t.test('a full disk turns writes into 507 with the reason, and health degraded', async (t) => {
  t.same(await ask(node, 'mail.example.org.'), ['192.0.2.25']);
  // ~3.6 MB of incompressible documents: the next LevelDB memtable flush (at 4 MB) needs that much room again.
  for (let i = 0; i < 60; i++) await node.node.store.put({ _id: `filler/${i}`, data: randomBytes(45_000).toString('base64') });
  await sleep(1500); // the zone snapshot is written a moment after a change
  await fill(1_500_000);
  let status = 0;
  let body: unknown;
  for (let i = 0; i < 200 && status !== 507; i++) {
    const write = await node.api('PUT', `/v1/zones/example.org./rrsets/big${i}/TXT`, { body: { ttl: 60, records: [`"${randomBytes(180).toString('base64')}"`] } });
    status = write.status;
    body = write.body;
    if (status !== 200 && status !== 201) break;
    await node.node.store.put({ _id: `more/${i}`, data: randomBytes(20_000).toString('base64') }).catch(() => undefined);
  }
  t.equal(status, 507, `a write answers 507: ${JSON.stringify(body)}`);
  t.match(body, { error: { code: 'insufficient_storage', message: /disk|space/i } });
  // The case that needs more than a retry: LevelDB failed to write a table file, and refuses every write until reopened.
  t.match(body, { error: { message: /\.ldb: No space left/ } }, 'a failed compaction');
  t.match((await healthz(node)).body, { status: 'degraded', data: { state: 'degraded' } });
  t.match(await health(node), /^degraded /);
  t.same(await ask(node, 'mail.example.org.'), ['192.0.2.25'], 'DNS answers as before');
});

t.test('once space returns, writes work again without a restart', async (t) => {
  await rm(filler);
  const took = await waitFor(async () => (await node.api('PUT', '/v1/zones/example.org./rrsets/mail/A', { body: { ttl: 60, records: ['192.0.2.26'] } })).status === 200, {
    what: 'a write to succeed once space returned',
    timeoutMs: 10_000,
  });
  t.ok(took.value, `a write succeeds ${took.ms} ms after space returned`);
  t.same(await ask(node, 'mail.example.org.'), ['192.0.2.26']);
  t.ok((await waitFor(async () => (await health(node)) === 'ok', { what: 'health ok', timeoutMs: 5000 })).value, 'health is ok again');
});

t.test('restarted on a full disk, the node answers DNS from its snapshot and opens its store once there is room', async (t) => {
  await sleep(1500);
  await node.stop();
  await fill(0);
  await node.restart();
  t.same(await ask(node, 'mail.example.org.'), ['192.0.2.26'], 'answers from the snapshot');
  t.match(await health(node), /^degraded /);
  t.match((await healthz(node)).body, { status: 'degraded' });
  t.equal((await node.api('PUT', '/v1/zones/example.org./rrsets/mail/A', { body: { ttl: 60, records: ['192.0.2.27'] } })).status, 503, 'writes wait for the store');
  await rm(filler);
  const took = await waitFor(async () => (await node.api('PUT', '/v1/zones/example.org./rrsets/mail/A', { body: { ttl: 60, records: ['192.0.2.27'] } })).status === 200, {
    what: 'the store to open and take a write once space returned',
    timeoutMs: 15_000,
  });
  t.ok(took.value, `the store opens and takes writes ${took.ms} ms after space returned`);
  t.ok((await waitFor(async () => (await ask(node, 'mail.example.org.'))[0] === '192.0.2.27', { what: 'the write answered', timeoutMs: 10_000 })).value, 'and the write is answered');
  t.ok((await waitFor(async () => (await health(node)) === 'ok', { what: 'health ok', timeoutMs: 5000 })).value, 'health ok');
});
