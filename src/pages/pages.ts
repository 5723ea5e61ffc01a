// Pages on one node: the in-memory index following the store, the blob cache, the deploy service and the asset
// server, started and stopped together.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import { createAssetServer, type AssetServer } from './asset-server.js';
import { BlobCache } from './blob-cache.js';
import { DeployService } from './deploy-service.js';
import { PagesMetrics } from './metrics.js';
import { PagesIndex } from './pages-index.js';
import { listenHttps, type HttpsListener } from './https-listener.js';
import type { CertIndex } from '../tls/cert-index.js';

export interface PagesSettings {
  http: { host: string; port: number };
  /** The HTTPS listener (https-listener.ts). */
  https: { host: string; port: number };
  previewDomain: string;
  cacheBytes: number;
  maxFiles: number;
  /** max-age for fingerprinted assets, seconds. */
  immutableMaxAge: number;
}

export interface Pages {
  index: PagesIndex;
  service: DeployService;
  blobs: BlobCache;
  metrics: PagesMetrics;
  settings: PagesSettings;
  logger: Logger;
  server: AssetServer;
  /** The port the asset server listens on (the one asked for, or the one the OS chose for 0). */
  port: number;
  /** The same sites over TLS, when the node holds certificates (src/tls). */
  https?: HttpsListener;
  close(): Promise<void>;
}

export async function startPages(store: Store, registry: Registry, logger: Logger, settings: PagesSettings, certs?: CertIndex): Promise<Pages> {
  const metrics = new PagesMetrics(registry);
  const index = new PagesIndex(store, logger);
  await index.start();
  const blobs = new BlobCache(store, settings.cacheBytes, metrics);
  const service = new DeployService({ store, index, blobs, metrics, logger, maxFiles: settings.maxFiles });
  let https: HttpsListener | undefined;
  const server = createAssetServer({
    index,
    blobs,
    store,
    metrics,
    logger,
    previewDomain: settings.previewDomain,
    immutableMaxAge: settings.immutableMaxAge,
    https: certs && { hasCertificate: (host) => certs.lookup(host) !== undefined, port: () => https?.port },
  });
  let port: number;
  try {
    port = await server.listen(settings.http.host, settings.http.port);
    if (certs) https = await listenHttps({ host: settings.https.host, port: settings.https.port, certs, listener: server.listener, logger });
  } catch (err) {
    await server.close();
    await index.stop();
    throw err;
  }
  return {
    index,
    service,
    blobs,
    metrics,
    settings,
    logger,
    server,
    port,
    https,
    close: async () => {
      await https?.close();
      await server.close();
      await index.stop();
    },
  };
}
