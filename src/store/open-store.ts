// Chooses the node's store from its configuration: CouchDB when --couchdb is given, else the embedded PouchDB in the
// data directory. Opening CouchDB contacts nothing, so a node can start while its database is down.

import path from 'node:path';
import type { Logger } from 'pino';
import { CouchUnavailableError } from './couch-http.js';
import { CouchStore } from './couch-store.js';
import { PouchStore } from './pouch-store.js';
import type { Store } from './store.js';

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

/** True for a store that lives on another server, so the node keeps a local snapshot of what it serves. */
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
    if (!(err instanceof CouchUnavailableError)) throw err;
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
          if (!(err instanceof CouchUnavailableError)) {
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
