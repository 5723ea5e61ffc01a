// One edgedns node: store, zone index kept in sync, DNS on UDP and TCP, the HTTP API; with CouchDB, the
// replication watchdog and the check that this node receives what its peers write.

import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { buildApi } from '../api/app.js';
import type { NodeConfig } from './config.js';
import { startAnswering, tcpOptions } from './answering.js';
import type { GeoRuntime } from '../geo/geo-runtime.js';
import { seedEdges } from '../geo/seed.js';
import { autoHeartbeatMs } from '../geo/health-writer.js';
import { closeDns, describeDns, listenDns, type DnsListener } from '../dns/listen.js';
import type { Listening } from '../dns/udp-server.js';
import { ensureBootstrapKey } from '../keys/api-keys.js';
import { KeyIndex } from '../keys/key-index.js';
import { writeIdentity } from '../cluster/node-identity.js';
import { ReceivingMonitor } from '../cluster/receiving.js';
import { startReplica } from '../cluster/replicate-from.js';
import { ReplicationWatchdog } from '../cluster/watchdog.js';
import { CouchStore } from '../store/couch-store.js';
import { DeferredStore } from '../store/deferred-store.js';
import { LocalState } from '../store/local-state.js';
import { isRemoteStore, openNodeStore, whenReachable } from '../store/open-store.js';
import { PouchStore } from '../store/pouch-store.js';
import { SnapshotStore } from '../store/snapshot.js';
import type { Store } from '../store/store.js';
import { StoreHealth } from '../store/store-health.js';
import type { Catalog } from '../zone/catalog.js';
import { startWorkers } from './workers/primary.js';
import { collectProcessMetrics } from './process-metrics.js';
import type { ServedZones } from '../api/wait-served.js';
import { seedZones } from '../zone/zones-dir.js';
import { startPages, type Pages } from '../pages/pages.js';
import { ClusterSecrets } from '../secrets/cluster-secrets.js';
import { CertIndex } from '../tls/cert-index.js';
import { CertManager } from '../acme/cert-manager.js';
import { reloadNode, type ReloadReport } from './reload.js';

export interface RunningNode {
  /** The first --dns address's sockets (tests and benches read its port). */
  dnsUdp: Listening;
  dnsTcp: Listening;
  /** Every --dns address's UDP socket and TCP listener, in the order given. */
  dns: DnsListener[];
  /** `app` is the API's fastify instance: tests send it requests in-process with `app.inject()`. */
  api: { host: string; port: number; app: FastifyInstance };
  catalog: Catalog;
  store: Store;
  registry: Registry;
  geo: GeoRuntime;
  /** The asset server and deploys (src/pages). */
  pages: Pages;
  /** How current and healthy the served data is (/healthz, health.edgedns., metrics). */
  health: StoreHealth;
  /** The replication watchdog (CouchDB store only). */
  watchdog?: ReplicationWatchdog;
  /**
   * SIGHUP: applies `next` (the configuration read again) where it can change without a restart (the log level),
   * reads the GeoIP files and the TLS material again, and logs one line saying what it did.
   */
  reload(next?: NodeConfig): Promise<ReloadReport>;
  /**
   * Stops the node. `drainMs` (SIGTERM): DNS and the API stop accepting at once, and what is in flight (TCP answers,
   * API requests) gets that long to finish; without it connections are closed at once.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

/** Hot blobs kept on local disk for a remote store: this many times the memory cache. */
const BLOB_DISK_FACTOR = 4;

export async function startNode(config: NodeConfig, logger: Logger): Promise<RunningNode> {
  const startedAt = Date.now();
  await mkdir(config.dataDir, { recursive: true });
  const registry = new Registry();
  collectProcessMetrics(registry);
  const health = new StoreHealth(registry);
  const store = await openNodeStore(config, logger, health);
  const remote = isRemoteStore(store);
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
    closers.length = 0;
  };
  closers.push(() => store.close());

  // --replicate-from: the embedded store is filled from the cluster before and while the index follows it.
  if (config.replicateFrom) {
    const url = config.replicateFrom;
    const replicate = (pouch: Store): void => {
      if (!(pouch instanceof PouchStore)) return;
      const stop = startReplica({ store: pouch, url, prefix: config.dbPrefix, logger, registry, health });
      closers.push(async () => stop());
    };
    if (store instanceof DeferredStore) store.onOpen(replicate);
    else replicate(store);
  }

  // With CouchDB down these wait in the background; the node answers from its local state meanwhile.
  const stopStartupWrites = await whenReachable(
    async () => {
      await ensureBootstrapKey(store, config.dataDir, config.nodeId);
      if (config.zonesDir) await seedZones(store, config.zonesDir, logger);
      if (config.zonesDir) await seedEdges(store, config.zonesDir, logger);
      if (store instanceof CouchStore) {
        await store.ensure();
        await writeIdentity(store.server, store.db, config.nodeId);
      }
    },
    'bootstrap key, zone seeding and node identity',
    logger,
  );
  closers.push(async () => stopStartupWrites());
  /** What stops taking queries and requests first, all together, on close (given the drain time on SIGTERM). */
  const front: ((drainMs?: number) => Promise<void>)[] = [];

  try {
    // Everything a node needs to answer and serve is kept on its own disk, so it starts while its store is away.
    const snapshot = new SnapshotStore({ dataDir: config.dataDir, logger, registry });
    const localState = new LocalState({ dataDir: config.dataDir, logger, registry });
    const keys = new KeyIndex(store, logger, { local: localState.file('keys'), tracker: health.index('keys') });
    await keys.start();
    closers.push(() => keys.stop());
    const answering = await startAnswering({ store, registry, logger, config, health, snapshot, localState, probes: true, clustered: remote });
    closers.push(() => answering.close());
    const { catalog, sync, geo } = answering;

    let watchdog: ReplicationWatchdog | undefined;
    if (store instanceof CouchStore) {
      const { watchdogIntervalMs, stallMs } = config.cluster;
      const dog = new ReplicationWatchdog({
        local: store.server,
        mainDb: store.db,
        nodeId: config.nodeId,
        logger,
        registry,
        intervalMs: watchdogIntervalMs,
        stallMs,
        onReport: (links) => geo.healthWriter?.setLinks(links),
      });
      watchdog = dog;
      dog.start();
      closers.push(() => dog.stop());
      const receiving = new ReceivingMonitor({
        nodeId: config.nodeId,
        health,
        store: health.index('zones'),
        reports: () => geo.state.liveHealth(),
        ownLinks: () => dog.links(),
        heartbeatMs: () => geo.healthWriter?.heartbeatMs ?? autoHeartbeatMs(1),
        watchdogIntervalMs,
        logger,
        registry,
      });
      receiving.start();
      closers.push(async () => receiving.stop());
    }

    let dns: DnsListener[];
    let metricsText: (() => Promise<string>) | undefined;
    let served: ServedZones | undefined;
    let workers: Awaited<ReturnType<typeof startWorkers>> | undefined;
    if (config.workers > 1) {
      // DNS workers answer; this process keeps the store, the API, the probes and the asset server.
      workers = await startWorkers({ count: config.workers, config, store, registry, logger, state: geo.state, catalog, sync, healthText: () => health.text() });
      front.push(workers.close);
      const shared = (address: string, port: number): Listening => ({ address, port, close: async () => undefined });
      dns = config.dns.map((a, i) => ({ udp: shared(a.host, workers!.ports[i]), tcp: shared(a.host, workers!.ports[i]) }));
      metricsText = () => workers!.metrics();
      served = workers;
    } else {
      dns = await listenDns(config.dns, answering.handler(), logger, tcpOptions(config, registry));
      front.push((drainMs) => closeDns(dns, drainMs));
    }
    // Certificates: the cluster key, the certificates it opens (served by SNI), and the manager that orders them.
    const secrets = await ClusterSecrets.open({ store, file: config.secretsKeyFile, logger, registry });
    closers.push(async () => secrets.close());
    const certs = new CertIndex(store, secrets, logger, registry);
    await certs.start();
    closers.push(() => certs.stop());
    const pages = await startPages(store, registry, logger, config.pages, certs, {
      state: localState,
      tracker: health.index('pages'),
      blobDiskBytes: remote ? config.pages.cacheBytes * BLOB_DISK_FACTOR : undefined,
    });
    closers.push(pages.close);
    closers.push(() => localState.flush());
    const manager = new CertManager({
      store,
      secrets,
      certs,
      sync,
      config: config.acme,
      challenges: { ttl: config.acme.ttl, lifetimeMs: config.acme.lifetimeMs },
      nodeId: config.nodeId,
      logger,
      registry,
      wantedNames: () => pages.index.allSites().flatMap((site) => [site.host, ...(site.aliases ?? [])]),
    });
    const stopWatchingSites = pages.index.onApplied(() => manager.poke());
    manager.start();
    closers.push(async () => {
      stopWatchingSites();
      await manager.stop();
    });
    const tls = { certs, secrets, manager };
    const api = await buildApi({ store, catalog, sync, registry, logger, nodeId: config.nodeId, startedAt, geo, health, acme: config.acme, pages, served, metricsText, tls, timeouts: config.apiTimeouts, keys });
    await api.listen({ host: config.api.host, port: config.api.port });
    front.push(async (drainMs) => {
      // fastify answers 503 to requests arriving while it closes and waits for those in flight, here up to drainMs;
      // a keep-alive connection whose request is answered is closed as soon as it is idle
      const idle = drainMs === undefined ? undefined : setInterval(() => api.server.closeIdleConnections(), 50);
      const cut = drainMs === undefined ? undefined : setTimeout(() => api.server.closeAllConnections(), drainMs);
      await api.close();
      clearInterval(idle);
      clearTimeout(cut);
    });
    const apiAddress = api.server.address();
    const apiPort = typeof apiAddress === 'object' && apiAddress ? apiAddress.port : config.api.port;
    logger.info(
      { dns: describeDns(dns), ...(config.workers > 1 ? { workers: config.workers } : {}), api: `${config.api.host}:${apiPort}`, http: `${config.pages.http.host}:${pages.port}`, https: `${config.pages.https.host}:${pages.https?.port}`, zones: catalog.names(), store: store.description },
      'edgedns node started',
    );
    return {
      dnsUdp: dns[0].udp,
      dnsTcp: dns[0].tcp,
      dns,
      api: { host: config.api.host, port: apiPort, app: api },
      catalog,
      store,
      registry,
      geo,
      pages,
      health,
      ...(watchdog ? { watchdog } : {}),
      reload: (next) => reloadNode({ config, next, logger, geo, secrets, certs, workers }),
      close: async (options = {}) => {
        await Promise.all(front.splice(0).map((close) => close(options.drainMs)));
        await closeAll();
      },
    };
  } catch (err) {
    for (const close of front.reverse()) await close().catch(() => undefined);
    await closeAll();
    throw err;
  }
}
