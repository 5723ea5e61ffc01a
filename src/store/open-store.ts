// Chooses the node's store from its configuration: CouchDB when --couchdb is given, else the embedded PouchDB in the
// data directory. Opening CouchDB contacts nothing, so a node can start while its database is down.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { DeferredStore } from './deferred-store.js';
import { LOCAL_STATE_DIR } from './local-state.js';
import { SNAPSHOT_FILE } from './snapshot.js';
import type { StoreHealth } from './store-health.js';
import { CouchStore } from './couch-store.js';
import { PouchStore } from './pouch-store.js';
import { StoreDamagedError, StoreUnavailableError, type Store } from './store.js';

/** What choosing a store needs from the node's configuration. */
export interface StoreConfig {
  dataDir: string;
  couchdb?: { url: string; user?: string; password?: string };
  dbPrefix: string;
}

export async function openStore(config: StoreConfig): Promise<Store> {
  if (config.couchdb) return new CouchStore({ ...config.couchdb, prefix: config.dbPrefix });
  return PouchStore.open(path.join(config.dataDir, 'db'));
}

/**
 * The node's store, as openStore gives it, made loud: a damaged store is refused (StoreDamagedError, naming the file
 * and what to do); one that cannot be opened now (a full disk, a lock) is opened again in the background while the
 * node answers from its local state, if it has some (else that is refused too); and a store that fails writes
 * (the embedded one on a full disk) says so in the node's health.
 */
export async function openNodeStore(config: StoreConfig, logger: Logger, health: StoreHealth): Promise<Store> {
  let store: Store;
  try {
    store = await openStore(config);
  } catch (err) {
    if (err instanceof StoreDamagedError || !(err instanceof StoreUnavailableError) || !hasLocalState(config.dataDir)) throw err;
    logger.error({ err: err.message }, 'cannot open the store; answering from local state and trying again');
    health.setDegraded('store-open', `cannot open the store: ${err.message}`);
    const deferred = new DeferredStore(`pouchdb:${path.join(config.dataDir, 'db')}`, err, () => openStore(config), logger);
    deferred.onOpen((opened) => {
      health.setDegraded('store-open', undefined);
      watchWrites(opened, health);
    });
    return deferred;
  }
  watchWrites(store, health);
  return store;
}

function watchWrites(store: Store, health: StoreHealth): void {
  if (store instanceof PouchStore) store.onWriteProblem((problem) => health.setDegraded('store-write', problem));
}

/** Whether the data directory holds anything to answer from: the zone snapshot or other local state. */
export function hasLocalState(dataDir: string): boolean {
  return existsSync(path.join(dataDir, SNAPSHOT_FILE)) || existsSync(path.join(dataDir, LOCAL_STATE_DIR));
}

/** True for a store that lives on another server (the node keeps hot blobs on disk, runs the watchdog). */
export function isRemoteStore(store: Store): boolean {
  return store instanceof CouchStore;
}

const MAX_RETRY_MS = 5_000;

/**
 * Runs start-up writes (bootstrap key, zone seeding) now, or, when the store is unreachable, in the background as
 * soon as it is back: a node must start answering from its snapshot without waiting for its database. Any other
 * failure is thrown, as before. Returns a function that stops the retries.
 */
export async function whenReachable(task: () => Promise<void>, what: string, logger: Logger): Promise<() => void> {
  try {
    await task();
    return () => undefined;
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    logger.warn({ err: err.message }, `store unreachable: ${what} will run when it is back`);
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = 250;
  const attempt = (): void => {
    timer = setTimeout(() => {
      task().then(
        () => logger.info(`store reachable: ${what} done`),
        (err: unknown) => {
          if (stopped) return;
          if (!(err instanceof StoreUnavailableError)) {
            // Reachable but refused: retrying would not help, and the log says what to fix.
            logger.error({ err }, `${what} failed`);
            return;
          }
          delay = Math.min(delay * 2, MAX_RETRY_MS);
          attempt();
        },
      );
    }, delay);
    timer.unref();
  };
  attempt();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
