// The embedded store's directory is checked before LevelDB opens it: data files without CURRENT (or a CURRENT that
// names a missing manifest) would make LevelDB start empty and delete them, so that is refused, naming the file.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { assertIntact } from '../../src/store/leveldb-files.js';
import { StoreDamagedError } from '../../src/store/store.js';

async function dir(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'edgedns-leveldb-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(d, name), text);
  return d;
}

t.test('an empty directory, or one with only logs and a lock, is a new store', async (t) => {
  await t.resolves(assertIntact(await dir({})));
  await t.resolves(assertIntact(await dir({ LOCK: '', LOG: 'x' })));
});

t.test('a complete store passes', async (t) => {
  await t.resolves(assertIntact(await dir({ CURRENT: 'MANIFEST-000004\n', 'MANIFEST-000004': 'm', '000005.ldb': 'd', '000006.log': 'l' })));
});

t.test('data files without CURRENT are refused, naming the file and what to do', async (t) => {
  const d = await dir({ 'MANIFEST-000004': 'm', '000005.ldb': 'd' });
  const err = await assertIntact(d).catch((e: unknown) => e);
  t.ok(err instanceof StoreDamagedError);
  t.match((err as Error).message, `${path.join(d, 'CURRENT')} is missing`);
  t.match((err as Error).message, /backup/);
});

t.test('a CURRENT naming a missing manifest is refused', async (t) => {
  const d = await dir({ CURRENT: 'MANIFEST-000009\n', '000005.ldb': 'd' });
  await t.rejects(assertIntact(d), /names MANIFEST-000009, which is missing/);
});
