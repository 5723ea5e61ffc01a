// What answering DNS needs, fed by a store: the zone catalog kept in sync, geo routing, and the query handler.
// A single-process node builds one next to its API; with --workers, the primary builds one for the API and each
// DNS worker its own, reading the store through the primary.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeConfig } from './config.js';
import { createHandler } from '../dns/handler.js';
import { withUpdates, type DnsResponder } from '../dns/update-dispatch.js';
import { createUpdater } from '../dns/updater.js';
import { servedByCatalog, waitServed } from '../api/wait-served.js';
import { DnsMetrics } from '../dns/metrics.js';
import { ResponseRateLimiter } from '../dns/rrl.js';
import { TcpMetrics } from '../dns/tcp-metrics.js';
import type { TcpOptions } from '../dns/tcp-server.js';
import { GeoRuntime } from '../geo/geo-runtime.js';
import type { LocalState } from '../store/local-state.js';
import type { SnapshotStore } from '../store/snapshot.js';
import type { StoreHealth } from '../store/store-health.js';
import type { Store } from '../store/store.js';
import { Catalog } from '../zone/catalog.js';
import { ZoneSync } from '../zone/zone-sync.js';
import { reconcileDelayMs } from '../zone/zone-reconcile.js';
import { writeThrough } from '../zone/write-through.js';

export interface AnsweringOptions {
  store: Store;
  registry: Registry;
  logger: Logger;
  config: NodeConfig;
  health: StoreHealth;
  snapshot?: SnapshotStore;
  /** Edges, pools and health kept on local disk (a start while the store is down). */
  localState?: LocalState;
  /** Whether this process probes the edges (false in DNS workers: the primary probes once for the node). */
  probes: boolean;
  /** A node of a CouchDB cluster: its health document heartbeats even without edges (peers watch for silence). */
  clustered?: boolean;
  /** CHAOS TXT health.edgedns. text, when another process knows better (a DNS worker asks its primary). */
  healthText?: () => string;
}

export interface Answering {
  catalog: Catalog;
  sync: ZoneSync;
  geo: GeoRuntime;
  /** Builds the query handler (and the UPDATE handler beside it); its DNS counters register only in a process that answers queries. */
  handler(): DnsResponder;
  close(): Promise<void>;
}

export async function startAnswering(options: AnsweringOptions): Promise<Answering> {
  const { store, registry, logger, config, health, snapshot } = options;
  const catalog = new Catalog();
  // The process that probes is the one per node that repairs serials after conflicts (DNS workers only follow).
  const reconcile = options.probes ? { delayMs: reconcileDelayMs(config.nodeId) } : undefined;
  const sync = new ZoneSync({ store, catalog, logger, registry, health, snapshot, reconcile });
  await sync.start();
  let geo: GeoRuntime;
  try {
    // Geo routing: edges, pools and health from the store, probes once per node, GeoIP for client locations.
    geo = await GeoRuntime.start({
      store,
      registry,
      logger,
      nodeId: config.nodeId,
      config: {
        geoipPaths: config.geoipPaths,
        probe: { intervalMs: config.probeIntervalMs, timeoutMs: config.probeTimeoutMs },
        probes: options.probes,
        location: config.location,
        heartbeatMs: config.cluster.heartbeatMs,
        clustered: options.clustered,
      },
      local: options.localState?.file('geo'),
      tracker: health.index('geo'),
    });
  } catch (err) {
    await sync.stop();
    throw err;
  }
  return {
    catalog,
    sync,
    geo,
    handler: () => {
      const query = createHandler({
        catalog,
        chaos: { nodeId: config.nodeId, version: config.chaosVersion, health: options.healthText ?? (() => health.text()) },
        metrics: new DnsMetrics(registry, { servedZones: () => catalog.names() }),
        logger,
        geo: geo.answerer,
        // one limiter per answering process: with --workers N, each worker limits its own share of the traffic
        rrl: config.rrl.rate > 0 ? new ResponseRateLimiter({ ...config.rrl, registry, logger }) : undefined,
        nsid: config.nsid === undefined ? undefined : Buffer.from(config.nsid, 'latin1'),
      });
      // RFC 2136 updates, answered once this process serves them (with --workers: the worker that took the update);
      // the update's version reaches this process's index directly, not only back through the changes feed
      const served = servedByCatalog(sync, catalog);
      const zoneStore = writeThrough(store, (docs) => sync.written(docs));
      const update = createUpdater({ store: zoneStore, catalog, logger, registry, waitServed: (zone, serial) => waitServed(served, zone, serial) });
      return withUpdates(query, update);
    },
    close: async () => {
      await geo.close();
      await sync.stop();
    },
  };
}

/** The DNS-over-TCP limits from the configuration, with their counters in `registry` (one set per process). */
export function tcpOptions(config: NodeConfig, registry: Registry): TcpOptions {
  return {
    idleTimeoutMs: config.tcpIdleTimeoutMs,
    messageTimeoutMs: config.tcpMessageTimeoutMs,
    maxConnections: config.tcpMaxConnections,
    maxPerAddress: config.tcpMaxPerAddress,
    metrics: new TcpMetrics(registry),
  };
}
