// A DNS worker reads the store through the primary (--workers): the store's own errors come back as the same
// classes with the same document id, carried as data, whatever the message says.

import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IpcStore, type Channel } from '../../src/node/workers/ipc-store.js';
import { StoreServer } from '../../src/node/workers/store-server.js';
import type { ToWorker } from '../../src/node/workers/protocol.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import { ConflictError, NotFoundError } from '../../src/store/store.js';

/** A worker's store and the primary's real one, joined by a channel that copies each message as IPC would. */
async function workerStore(t: Test): Promise<IpcStore> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgedns-ipc-'));
  const store = await PouchStore.open(dir);
  const listeners: ((message: ToWorker) => void)[] = [];
  const server = new StoreServer(store, (message) => queueMicrotask(() => listeners.forEach((l) => l(structuredClone(message)))));
  const channel: Channel = {
    send: (message) => queueMicrotask(() => server.handle(structuredClone(message))),
    onMessage: (listener) => listeners.push(listener),
  };
  const ipc = new IpcStore(channel, store.description);
  t.teardown(async () => {
    await ipc.close();
    await server.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return ipc;
}

t.test('a conflict and a missing document keep their class and their document id', async (t) => {
  const store = await workerStore(t);
  const first = await store.put({ _id: 'zone/example.test.', n: 1 });
  t.ok(first.rev);
  const conflict = await store.put({ _id: 'zone/example.test.', n: 2 }).catch((err: unknown) => err);
  t.type(conflict, ConflictError);
  t.equal((conflict as ConflictError).id, 'zone/example.test.');
  t.equal((conflict as ConflictError).code, 'conflict');
  // an id that reads like the message around it is still given back whole
  const odd = 'document a was changed by someone else';
  const missing = await store.remove(odd, '1-0123456789abcdef0123456789abcdef').catch((err: unknown) => err);
  t.type(missing, NotFoundError);
  t.equal((missing as NotFoundError).id, odd);
});
