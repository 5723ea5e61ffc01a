import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { PouchStore } from '../../src/store/pouch-store.js';
import { storeContract } from './contract.js';

await storeContract(t, 'PouchStore', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'edgedns-pouch-'));
  // A directory that does not exist yet, to check that open creates it.
  const dir = join(parent, 'data', 'db');
  const opened = [await PouchStore.open(dir)];
  return {
    store: opened[0],
    async reopen() {
      const store = await PouchStore.open(dir);
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
      await rm(parent, { recursive: true, force: true });
    },
  };
});
