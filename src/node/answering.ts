// What answering DNS needs, fed by a store: the zone catalog kept in sync, geo routing, and the query handler.
// A single-process node builds one next to its API; with --workers, the primary builds one for the API and each
// DNS worker its own, reading the store through the primary.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeConfig } from './config.js';
import { createHandler, type DnsHandler } from '../dns/handler.js';
import { DnsMetrics } from '../dns/metrics.js';
import { ResponseRateLimiter } from '../dns/rrl.js';
import { TcpMetrics } from '../dns/tcp-metrics.js';
import type { TcpOptions } from '../dns/tcp-server.js';
import { GeoRuntime } from '../geo/geo-runtime.js';
import type { SnapshotStore } from '../store/snapshot.js';
import type { StoreHealth } from '../store/store-health.js';
import type { Store } from '../store/store.js';
import { Catalog } from '../zone/catalog.js';
import { ZoneSync } from '../zone/zone-sync.js';

export interface AnsweringOptions {
  store: Store;
  registry: Registry;
  logger: Logger;
  config: NodeConfig;
  health: StoreHealth;
  snapshot?: SnapshotStore;
  /** Whether this process probes the edges (false in DNS workers: the primary probes once for the node). */
  probes: boolean;
}

export interface Answering {
  catalog: Catalog;
  sync: ZoneSync;
  geo: GeoRuntime;
  /** Builds the query handler; its DNS counters register only in a process that answers queries. */
  handler(): DnsHandler;
  close(): Promise<void>;
}

export async function startAnswering(options: AnsweringOptions): Promise<Answering> {
  const { store, registry, logger, config, health, snapshot } = options;
  const catalog = new Catalog();
  const sync = new ZoneSync({ store, catalog, logger, registry, health, snapshot });
  await sync.start();
  let geo: GeoRuntime;
  try {
    // Geo routing: edges, pools and health from the store, probes once per node, GeoIP for client locations.
    geo = await GeoRuntime.start({
      store,
      registry,
      logger,
      nodeId: config.nodeId,
      config: { geoipPaths: config.geoipPaths, probe: { intervalMs: config.probeIntervalMs, timeoutMs: config.probeTimeoutMs }, probes: options.probes, location: config.location },
    });
  } catch (err) {
    await sync.stop();
    throw err;
  }
  return {
    catalog,
    sync,
    geo,
    handler: () =>
      createHandler({
        catalog,
        chaos: { nodeId: config.nodeId, version: config.chaosVersion, health: () => health.text() },
        metrics: new DnsMetrics(registry, { servedZones: () => catalog.names() }),
        logger,
        geo: geo.answerer,
        // one limiter per answering process: with --workers N, each worker limits its own share of the traffic
        rrl: config.rrl.rate > 0 ? new ResponseRateLimiter({ ...config.rrl, registry, logger }) : undefined,
        nsid: config.nsid === undefined ? undefined : Buffer.from(config.nsid, 'latin1'),
      }),
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
