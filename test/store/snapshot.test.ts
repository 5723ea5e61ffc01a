// The local snapshot: written atomically with its checkpoint, read back whole, and ignored (never fatal) when it is
// missing, unreadable or in another format, so a node then falls back to a full read.

import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { SNAPSHOT_FILE, SnapshotStore } from '../../src/store/snapshot.js';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

async function fixture(t: TapTest): Promise<{ dir: string; snapshots: SnapshotStore }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-snapshot-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { dir, snapshots: new SnapshotStore({ dataDir: dir, logger: pino({ level: 'silent' }), registry: new Registry(), intervalMs: 20 }) };
}

t.test('a scheduled snapshot is written once with the newest state and read back', async (t) => {
  const { dir, snapshots } = await fixture(t);
  t.equal(await snapshots.load(), undefined, 'none yet');
  const checkpoint = { seq: '12-g1AAAABXeJzLYWBgYMpgTmHgz8tPSTV0MDQy1zMAQsMcoEQiQ1L9____szKYE', storeId: 'couchdb:http://127.0.0.1:5984/edgedns_data', syncedAt: new Date().toISOString() };
  let captured = 0;
  for (let i = 1; i <= 5; i++) {
    snapshots.schedule(() => {
      captured++;
      return { checkpoint: { ...checkpoint, seq: `${checkpoint.seq}-${i}` }, docs: [{ _id: `zone/${i}.example.`, type: 'zone' }] };
    });
  }
  await snapshots.flush();
  t.equal(captured, 1, 'a burst costs one write');
  const loaded = await snapshots.load();
  t.equal(loaded?.checkpoint.seq, `${checkpoint.seq}-5`, 'the opaque sequence comes back exactly, from the newest state');
  t.same(loaded?.docs, [{ _id: 'zone/5.example.', type: 'zone' }]);
  t.same(await readdir(dir), [SNAPSHOT_FILE], 'no temporary file left behind');
});

t.test('an unreadable or foreign snapshot is ignored', async (t) => {
  const { dir, snapshots } = await fixture(t);
  await writeFile(path.join(dir, SNAPSHOT_FILE), '{"format":1,"checkpoint":');
  t.equal(await snapshots.load(), undefined, 'truncated JSON');
  await writeFile(path.join(dir, SNAPSHOT_FILE), JSON.stringify({ format: 99, checkpoint: {}, docs: [] }));
  t.equal(await snapshots.load(), undefined, 'another format');
  await writeFile(path.join(dir, SNAPSHOT_FILE), JSON.stringify({ format: 1, checkpoint: { seq: 5, storeId: 'x', syncedAt: 'now' }, docs: [] }));
  t.equal(await snapshots.load(), undefined, 'a checkpoint whose seq is not a string');
});
