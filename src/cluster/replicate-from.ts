// The embedded edge replica: a node on the embedded store pulls continuously from a CouchDB cluster
// (--replicate-from URL), so a small edge joins without running CouchDB. Its zone index follows the local store as
// usual; this only keeps the local store filled, counts and logs what the pull does, and makes the node's health
// follow its upstream: stale until the first pull has caught up, and whenever the upstream cannot be reached.

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { couchServer } from '../store/couch-http.js';
import { MAIN_DB_SUFFIX } from '../store/couch-store.js';
import type { PouchStore } from '../store/pouch-store.js';
import type { StoreHealth } from '../store/store-health.js';

const STATES = ['active', 'idle', 'retrying', 'denied', 'error'] as const;

export interface ReplicaOptions {
  store: PouchStore;
  /** The CouchDB server URL (credentials allowed); the database is `<prefix>data` on it. */
  url: string;
  prefix: string;
  logger: Logger;
  registry: Registry;
  health?: StoreHealth;
}

/** Starts the pull; returns the function that stops it. */
export function startReplica({ store, url, prefix, logger, registry, health }: ReplicaOptions): () => void {
  const server = couchServer({ url });
  const source = `${server.authUrl}${prefix}${MAIN_DB_SUFFIX}`;
  const shown = `${server.publicUrl}${prefix}${MAIN_DB_SUFFIX}`;
  const registers = [registry];
  const pulled = new Counter({ name: 'edgedns_replica_docs_pulled_total', help: 'Documents written into the embedded store by --replicate-from', registers });
  let current: (typeof STATES)[number] = 'active';
  const state: Gauge<'state'> = new Gauge({
    name: 'edgedns_replica_state',
    help: 'State of the --replicate-from pull: 1 for the current one (idle = caught up)',
    labelNames: ['state'],
    registers,
    collect: () => {
      for (const s of STATES) state.labels(s).set(s === current ? 1 : 0);
    },
  });
  logger.info({ source: shown }, 'pulling from the cluster (embedded replica)');
  // Not in sync with the cluster until the first pull has caught up.
  health?.setStale('upstream', { text: `upstream ${shown}: not caught up yet`, kind: 'upstream-unreachable' });
  const stop = store.replicateFrom(source, {
    onPulled: (docs) => pulled.inc(docs),
    onState: (next, err) => {
      if (next !== current) {
        const level = next === 'idle' || next === 'active' ? 'info' : 'warn';
        logger[level]({ source: shown, state: next, err: err?.message }, 'replica pull state');
      }
      current = next;
      if (next === 'idle') health?.setStale('upstream', undefined);
      else if (next !== 'active') health?.setStale('upstream', { text: `upstream ${shown} unreachable (${next}${err ? `: ${err.message.split('\n')[0]}` : ''})`, kind: 'upstream-unreachable' });
    },
  });
  return () => {
    stop();
    health?.setStale('upstream', undefined);
  };
}
