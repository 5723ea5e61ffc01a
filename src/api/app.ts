// The HTTP API: health and metrics open to monitors, everything under /v1 behind a key.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import type { StoreHealth } from '../store/store-health.js';
import type { Catalog } from '../zone/catalog.js';
import type { ZoneSync } from '../zone/zone-sync.js';
import { writeThrough } from '../zone/write-through.js';
import { installErrorHandler } from './error-handler.js';
import { zoneRoutes } from './routes/zones.js';
import { edgeRoutes } from './routes/edges.js';
import { poolRoutes } from './routes/pools.js';
import type { GeoRuntime } from '../geo/geo-runtime.js';
import { conflictRoutes } from './routes/conflicts.js';
import { httpMetrics } from './http-metrics.js';
import type { Pages } from '../pages/pages.js';
import { deployRoutes } from './routes/deploys.js';
import { siteRoutes } from './routes/sites.js';
import type { AcmeConfig } from '../acme/acme-config.js';
import { createAuthGuard } from './auth.js';
import { DEFAULT_FAILURE_LIMIT, type FailureLimitOptions } from './rate-limit.js';
import { rrsetRoutes } from './routes/rrsets.js';
import { keyRoutes } from './routes/keys.js';
import { acmeRoutes } from './routes/acme.js';
import { acmeDnsRoutes } from './routes/acme-dns.js';
import { pdnsRoutes } from './routes/pdns.js';
import { openapiRoutes } from './openapi.js';
import { acmeMetrics, startSweeper } from '../acme/sweeper.js';
import { servedByCatalog, type ServedZones } from './wait-served.js';

export interface ApiOptions {
  store: Store;
  catalog: Catalog;
  sync: ZoneSync;
  registry: Registry;
  logger: Logger;
  nodeId: string;
  startedAt: number;
  /** Geo routing (edges, pools, explain); without it those routes are not offered. */
  geo?: GeoRuntime;
  /** How current the served data is; /healthz reports "degraded" with its age while the store is unreachable. */
  health?: StoreHealth;
  /** ACME challenge settings (TTL, lifetime, acme-dns domain); defaults when absent. */
  acme?: AcmeConfig;
  /** Failed authentications allowed per client address and window before 429. */
  authFailureLimit?: FailureLimitOptions;
  /** Pages (sites, deploys); without it those routes are not offered. */
  pages?: Pages;
  /** What every process answering DNS serves, when not only this one (--workers); writes wait for all of them. */
  served?: ServedZones;
  /** The metrics text, when it has to be gathered from more than this process's registry (--workers). */
  metricsText?: () => Promise<string>;
}

/** Zone files can be large; 10 MiB holds some hundred thousand records. */
const BODY_LIMIT = 10 * 1024 * 1024;

export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  // Fastify's own request logging writes two lines per request; http-metrics.ts writes one when it completes.
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
  });
  installErrorHandler(app);
  httpMetrics(app, options.registry);
  app.addContentTypeParser(['text/plain', 'text/dns'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.get('/healthz', async () => ({
    // Degraded, not down: DNS keeps answering from memory; monitors alert on the data's age.
    status: options.health?.status().state === 'stale' ? 'degraded' : 'ok',
    ...(options.health ? { data: options.health.status() } : {}),
    node: options.nodeId,
    zones: options.catalog.size,
    // Zones holding back a version until all of it is here, and zones whose content differs from their version.
    zoneVersions: options.sync.status(),
    store: options.store.description,
    uptimeSeconds: Math.round((Date.now() - options.startedAt) / 1000),
  }));

  app.get('/metrics', async (_request, reply) => {
    return reply.type(options.registry.contentType).send(await (options.metricsText?.() ?? options.registry.metrics()));
  });

  app.decorate('authGuard', createAuthGuard(options.registry, options.authFailureLimit ?? DEFAULT_FAILURE_LIMIT));
  await app.register(openapiRoutes); // first: it collects every route registered after it
  const served = options.served ?? servedByCatalog(options.sync, options.catalog);
  // Zone writes reach this node's index directly, not only through the changes feed (src/zone/write-through.ts).
  const zoneStore = writeThrough(options.store, (docs) => options.sync.written(docs));
  await app.register(zoneRoutes, { store: zoneStore, sync: options.sync, catalog: options.catalog, served });
  await app.register(rrsetRoutes, { store: zoneStore, sync: options.sync, catalog: options.catalog, served });
  await app.register(keyRoutes, { store: options.store });
  const acme = { ttl: options.acme?.ttl ?? 60, lifetimeMs: options.acme?.lifetimeMs ?? 3600_000 };
  const acmeOptions = { store: zoneStore, sync: options.sync, catalog: options.catalog, served, settings: acme, metrics: acmeMetrics(options.registry, options.sync) };
  await app.register(acmeRoutes, acmeOptions);
  await app.register(acmeDnsRoutes, { ...acmeOptions, domain: options.acme?.dnsDomain });
  await app.register(pdnsRoutes, { store: zoneStore, sync: options.sync, catalog: options.catalog, served });
  const stopSweeper = startSweeper({ ...acmeOptions, logger: options.logger });
  app.addHook('onClose', async () => stopSweeper());
  if (options.geo) {
    await app.register(edgeRoutes, { store: options.store, geo: options.geo });
    await app.register(poolRoutes, { store: options.store, geo: options.geo, catalog: options.catalog });
  }
  await app.register(conflictRoutes, { store: options.store });
  if (options.pages) {
    await app.register(deployRoutes, { store: options.store, pages: options.pages });
    await app.register(siteRoutes, { store: options.store, pages: options.pages });
  }
  return app;
}
