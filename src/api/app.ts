// The HTTP API: health and metrics open to monitors, everything under /v1 behind a key.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import type { Catalog } from '../zone/catalog.js';
import type { ZoneSync } from '../zone/zone-sync.js';
import { installErrorHandler } from './error-handler.js';
import { zoneRoutes } from './routes/zones.js';
import { httpMetrics } from './http-metrics.js';

export interface ApiOptions {
  store: Store;
  catalog: Catalog;
  sync: ZoneSync;
  registry: Registry;
  logger: Logger;
  nodeId: string;
  startedAt: number;
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
    status: 'ok',
    node: options.nodeId,
    zones: options.catalog.size,
    store: options.store.description,
    uptimeSeconds: Math.round((Date.now() - options.startedAt) / 1000),
  }));

  app.get('/metrics', async (_request, reply) => {
    return reply.type(options.registry.contentType).send(await options.registry.metrics());
  });

  await app.register(zoneRoutes, { store: options.store, sync: options.sync, catalog: options.catalog });
  return app;
}
