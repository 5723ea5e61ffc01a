// An embedded store in a directory of its own, closed and removed when the test ends.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PouchStore } from '../../src/store/pouch-store.js';

export async function tempPouchStore(t: { teardown(fn: () => Promise<void>): void }, name: string): Promise<PouchStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `edgedns-${name}-`));
  const store = await PouchStore.open(dir);
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}
