// One edgedns node: store, zone index kept in sync, DNS on UDP and TCP, the HTTP API.

import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { buildApi } from '../api/app.js';
import type { NodeConfig } from './config.js';
import { startAnswering, tcpOptions } from './answering.js';
import type { GeoRuntime } from '../geo/geo-runtime.js';
import { seedEdges } from '../geo/seed.js';
import { closeDns, describeDns, listenDns, type DnsListener } from '../dns/listen.js';
import type { Listening } from '../dns/udp-server.js';
import { ensureBootstrapKey } from '../keys/api-keys.js';
import { startReplica } from '../cluster/replicate-from.js';
import { isRemoteStore, openStore, whenReachable } from '../store/open-store.js';
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

export async function startNode(config: NodeConfig, logger: Logger): Promise<RunningNode> {
  const startedAt = Date.now();
  await mkdir(config.dataDir, { recursive: true });
  const store = await openStore(config);
  const registry = new Registry();
  collectProcessMetrics(registry);

  // --replicate-from: the embedded store is filled from the cluster before and while the index follows it.
  const stopReplica =
    config.replicateFrom && store instanceof PouchStore
      ? startReplica({ store, url: config.replicateFrom, prefix: config.dbPrefix, logger, registry })
      : () => undefined;

  // With CouchDB down these wait in the background; the node answers from its snapshot meanwhile.
  const stopStartupWrites = await whenReachable(
    async () => {
      await ensureBootstrapKey(store, config.dataDir, config.nodeId);
      if (config.zonesDir) await seedZones(store, config.zonesDir, logger);
      if (config.zonesDir) await seedEdges(store, config.zonesDir, logger);
    },
    'bootstrap key and zone seeding',
    logger,
  );

  const health = new StoreHealth(registry);
  // The embedded store is on local disk already; a remote one gets a local snapshot to start from when it is down.
  const snapshot = isRemoteStore(store) ? new SnapshotStore({ dataDir: config.dataDir, logger, registry }) : undefined;
  const answering = await startAnswering({ store, registry, logger, config, health, snapshot, probes: true });
  const { catalog, sync, geo } = answering;
  const closers: (() => Promise<void>)[] = [];
  /** What stops taking queries and requests first, all together, on close (given the drain time on SIGTERM). */
  const front: ((drainMs?: number) => Promise<void>)[] = [];
  try {
    let dns: DnsListener[];
    let metricsText: (() => Promise<string>) | undefined;
    let served: ServedZones | undefined;
    let workers: Awaited<ReturnType<typeof startWorkers>> | undefined;
    if (config.workers > 1) {
      // DNS workers answer; this process keeps the store, the API, the probes and the asset server.
      workers = await startWorkers({ count: config.workers, config, store, remoteStore: isRemoteStore(store), registry, logger, state: geo.state, catalog, sync });
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
    const pages = await startPages(store, registry, logger, config.pages, certs);
    closers.push(pages.close);
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
    const api = await buildApi({ store, catalog, sync, registry, logger, nodeId: config.nodeId, startedAt, geo, health, acme: config.acme, pages, served, metricsText, tls, timeouts: config.apiTimeouts });
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
    const stop = async (drainMs?: number): Promise<void> => {
      stopStartupWrites();
      stopReplica();
      await Promise.all(front.map((close) => close(drainMs)));
      for (const close of closers.reverse()) await close();
      await answering.close();
      await store.close();
    };
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
      reload: (next) => reloadNode({ config, next, logger, geo, secrets, certs, workers }),
      close: (options = {}) => stop(options.drainMs),
    };
  } catch (err) {
    stopStartupWrites();
    stopReplica();
    for (const close of front.reverse()) await close().catch(() => undefined);
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await answering.close();
    await store.close();
    throw err;
  }
}
