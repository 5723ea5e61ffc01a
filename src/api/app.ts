// The HTTP API: health and metrics open to monitors, everything else behind a key checked before the body is read
// (auth.ts), bodies bounded per route (body-limits.ts), slow clients cut off by header and request deadlines.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KeyIndex } from '../keys/key-index.js';
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
import { createAuthGuard, installAuthentication } from './auth.js';
import { JSON_BODY_LIMIT } from './body-limits.js';
import { DEFAULT_FAILURE_LIMIT } from './rate-limit.js';
import { rrsetRoutes } from './routes/rrsets.js';
import { keyRoutes } from './routes/keys.js';
import { tsigKeyRoutes } from './routes/tsig-keys.js';
import { acmeRoutes } from './routes/acme.js';
import { acmeDnsRoutes } from './routes/acme-dns.js';
import { pdnsRoutes } from './routes/pdns.js';
import { openapiRoutes } from './openapi.js';
import { acmeMetrics, startSweeper } from '../acme/sweeper.js';
import { servedByCatalog, type ServedZones } from './wait-served.js';
import { packageVersion } from './package-version.js';
import { certRoutes, type TlsServices } from './routes/certs.js';

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
  /** Deadlines for a client to send its headers and its whole request; DEFAULT_API_TIMEOUTS when absent. */
  timeouts?: ApiTimeouts;
  /** Pages (sites, deploys); without it those routes are not offered. */
  pages?: Pages;
  /** What every process answering DNS serves, when not only this one (--workers); writes wait for all of them. */
  served?: ServedZones;
  /** The metrics text, when it has to be gathered from more than this process's registry (--workers). */
  metricsText?: () => Promise<string>;
  /** API keys held in memory (checked without the store, and while it is down). */
  keys?: KeyIndex;
  /** Certificates, the secrets key and ordering (src/tls, src/secrets, src/acme); without it no /v1/certs. */
  tls?: TlsServices;
}

export interface ApiTimeouts {
  /** A client that has not sent its whole header block this long after connecting (or after its last request) is cut off. */
  headersMs: number;
  /** A request whose body has not all arrived this long after it began is answered 408 and its connection closed. */
  requestMs: number;
}

/** 120 s carries a 25 MiB site file at 1.7 Mbit/s; no client needs 10 s to send its headers. */
export const DEFAULT_API_TIMEOUTS: ApiTimeouts = { headersMs: 10_000, requestMs: 120_000 };

/** How often Node looks for connections past their deadlines (its default, 30 s, would let them overstay that much). */
const DEADLINE_CHECK_MS = 1000;

export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const timeouts = options.timeouts ?? DEFAULT_API_TIMEOUTS;
  // Fastify's own request logging writes two lines per request; http-metrics.ts writes one when it completes.
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: JSON_BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: timeouts.requestMs,
    // Node requires the header deadline to be no longer than the request's.
    http: { headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs), connectionsCheckingInterval: DEADLINE_CHECK_MS },
  });
  installErrorHandler(app, options.registry);
  httpMetrics(app, options.registry);
  // Before every route is registered, so that it runs first for all of them (fastify runs root hooks first).
  app.decorate('authGuard', createAuthGuard(options.registry, DEFAULT_FAILURE_LIMIT, options.keys));
  installAuthentication(app, options.store);
  app.addContentTypeParser(['text/plain', 'text/dns'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.get('/healthz', async () => ({
    // Degraded, not down: DNS keeps answering from memory; monitors alert on the data's age (stale) or the store's
    // trouble (degraded). A node that cannot open the cluster's secrets still serves HTTP, and certificates close to
    // their end still serve: degraded too.
    status: (options.health?.status().state ?? 'ok') !== 'ok' || tlsProblem(options.tls) ? 'degraded' : 'ok',
    ...(options.health ? { data: options.health.status() } : {}),
    ...(options.tls ? { tls: tlsHealth(options.tls) } : {}),
    node: options.nodeId,
    version: packageVersion(),
    zones: options.catalog.size,
    // Zones holding back a version until all of it is here, and zones whose content differs from their version.
    zoneVersions: options.sync.status(),
    store: options.store.description,
    uptimeSeconds: Math.round((Date.now() - options.startedAt) / 1000),
  }));

  app.get('/metrics', async (_request, reply) => {
    return reply.type(options.registry.contentType).send(await (options.metricsText?.() ?? options.registry.metrics()));
  });

  await app.register(openapiRoutes); // first: it collects every route registered after it
  const served = options.served ?? servedByCatalog(options.sync, options.catalog);
  // Zone writes reach this node's index directly, not only through the changes feed (src/zone/write-through.ts).
  const zoneStore = writeThrough(options.store, (docs) => options.sync.written(docs));
  await app.register(zoneRoutes, { store: zoneStore, sync: options.sync, catalog: options.catalog, served });
  await app.register(rrsetRoutes, { store: zoneStore, sync: options.sync, catalog: options.catalog, served });
  await app.register(keyRoutes, { store: options.store, keys: options.keys });
  await app.register(tsigKeyRoutes, { store: options.store });
  const acme = { ttl: options.acme?.ttl ?? 60, lifetimeMs: options.acme?.lifetimeMs ?? 3600_000 };
  const acmeOptions = { store: zoneStore, sync: options.sync, catalog: options.catalog, served, settings: acme, metrics: acmeMetrics(options.registry, options.sync) };
  await app.register(acmeRoutes, acmeOptions);
  await app.register(acmeDnsRoutes, { ...acmeOptions, domain: options.acme?.dnsDomain });
  const metricsText = (): Promise<string> => options.metricsText?.() ?? options.registry.metrics();
  await app.register(pdnsRoutes, { store: zoneStore, sync: options.sync, catalog: options.catalog, served, metricsText, startedAt: options.startedAt });
  const stopSweeper = startSweeper({ ...acmeOptions, logger: options.logger });
  app.addHook('onClose', async () => stopSweeper());
  if (options.geo) {
    await app.register(edgeRoutes, { store: options.store, geo: options.geo });
    await app.register(poolRoutes, { store: options.store, geo: options.geo, catalog: options.catalog });
  }
  await app.register(conflictRoutes, { store: options.store });
  if (options.tls) await app.register(certRoutes, { store: options.store, nodeId: options.nodeId, ...options.tls });
  if (options.pages) {
    await app.register(deployRoutes, { store: options.store, pages: options.pages });
    await app.register(siteRoutes, { store: options.store, pages: options.pages });
  }
  return app;
}

function tlsHealth(tls: TlsServices): { secrets: string; certificates: number; expiringSoon: string[]; notOpened: number } {
  return { secrets: tls.secrets.problem() ?? 'ok', certificates: tls.certs.servedCount, expiringSoon: tls.certs.expiringSoon(), notOpened: tls.certs.failures.size };
}

function tlsProblem(tls: TlsServices | undefined): boolean {
  if (!tls) return false;
  const health = tlsHealth(tls);
  return health.secrets !== 'ok' || health.expiringSoon.length > 0 || health.notOpened > 0;
}
