// The asset server: Host → site → deployment → manifest → blob, on node:http (no framework on the hot path).
// A request picks its deployment once, at the start, so every byte of one response comes from one deployment; the
// deployment id goes out in `X-Edgedns-Deployment` so a client can pin the rest of a page load to it (preview URL).

import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import type { BlobCache } from './blob-cache.js';
import type { PagesMetrics } from './metrics.js';
import type { FileEntry, SiteDoc } from './model.js';
import { normalizeHost } from './model.js';
import type { LiveDeployment, PagesIndex } from './pages-index.js';
import { isFingerprinted, isHtml } from './paths.js';
import { resolvePath } from './resolve.js';
import { headersFor } from './rules.js';

export interface AssetServerOptions {
  index: PagesIndex;
  blobs: BlobCache;
  store: Store;
  metrics: PagesMetrics;
  logger: Logger;
  /** `<deployment-id>.<previewDomain>` serves that deployment. */
  previewDomain: string;
  /** max-age for fingerprinted assets (app.3f9a1c2e.js), in seconds. */
  immutableMaxAge: number;
  /** /healthz answers 503 when the store has not answered for this long. */
  storeStaleMs?: number;
  /** What the HTTP→HTTPS redirect needs to know: whether a certificate is served for a host, and on which port. */
  https?: HttpsTarget;
}

export interface HttpsTarget {
  hasCertificate(host: string): boolean;
  /** The HTTPS listener's port; left out of redirect URLs when it is 443. */
  port(): number | undefined;
}

/** node:http's request and response, or node:http2's compatibility ones (which implement what `handle` uses). */
export type RequestListener = (request: IncomingMessage, response: ServerResponse, secure: boolean) => void;

export const DEPLOYMENT_HEADER = 'x-edgedns-deployment';
const REVALIDATE = 'public, max-age=0, must-revalidate';
const STORE_CHECK_MS = 1000;
const STORE_CHECK_TIMEOUT_MS = 1000;

export interface AssetServer {
  server: Server;
  /** The request handler, for the HTTPS listener (https-listener.ts) to share. */
  listener: RequestListener;
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

export function createAssetServer(options: AssetServerOptions): AssetServer {
  const { index, blobs, metrics, logger } = options;
  const previewSuffix = '.' + options.previewDomain.toLowerCase();
  const health = new StoreHealth(options.store, options.storeStaleMs ?? 30_000);

  const listener: RequestListener = (request, response, secure) => {
    handle(request, response, secure).catch((err: unknown) => {
      logger.error({ err, url: request.url }, 'asset server request failed');
      if (!response.headersSent) plain(response, 500, 'internal error\n', request.method === 'HEAD');
      else response.destroy();
    });
  };
  const server = createServer((request, response) => listener(request, response, false));
  // Slow-loris and idle keep-alive connections must not pile up on an edge.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  async function handle(request: IncomingMessage, response: ServerResponse, secure: boolean): Promise<void> {
    const head = request.method === 'HEAD';
    const url = request.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q >= 0 ? url.slice(0, q) : url;
    const search = q >= 0 ? url.slice(q) : '';

    if (rawPath === '/healthz') return healthz(response, head);
    if (request.method !== 'GET' && !head) {
      response.setHeader('allow', 'GET, HEAD');
      plain(response, 405, 'only GET and HEAD are served here\n', false);
      return;
    }

    // HTTP/2 names the host in :authority, HTTP/1.1 in Host.
    const host = normalizeHost(request.headers.host ?? (request.headers[':authority'] as string | undefined) ?? '');
    let deployment: LiveDeployment | undefined;
    let site: SiteDoc | undefined;
    let preview = false;
    if (host.endsWith(previewSuffix)) {
      const id = host.slice(0, -previewSuffix.length);
      deployment = index.deployment(id);
      site = deployment ? index.site(deployment.site) : undefined;
      if (!deployment || !site || !site.previews) return count('-', plain(response, 404, `no preview deployment "${id}" here\n`, head));
      preview = true;
    } else {
      site = index.siteForHost(host);
      if (!site) return count('-', plain(response, 404, `no site is served at ${host || '(no Host header)'}\n`, head));
      if (site.https?.redirect && !secure && options.https?.hasCertificate(host)) {
        const port = options.https.port();
        response.setHeader('location', `https://${host}${port === undefined || port === 443 ? '' : `:${port}`}${url}`);
        return count(site.host, plain(response, 308, 'this site is served over HTTPS\n', head));
      }
      if (secure && site.https?.hstsMaxAge) response.setHeader('strict-transport-security', `max-age=${site.https.hstsMaxAge}`);
      deployment = index.production(site);
      if (!deployment) return count(site.host, plain(response, 404, `${site.host} has no production deployment yet\n`, head));
    }
    const siteName = site.host;

    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return count(siteName, plain(response, 400, 'the path is not valid percent-encoding\n', head));
    }
    if (!path.startsWith('/')) return count(siteName, plain(response, 400, 'the path must start with "/"\n', head));

    response.setHeader(DEPLOYMENT_HEADER, deployment.id);
    if (preview) response.setHeader('x-robots-tag', 'noindex');
    const result = resolvePath(deployment, path, search);
    if (result.kind === 'redirect') {
      response.setHeader('location', result.location);
      return count(siteName, plain(response, result.status, `redirecting to ${result.location}\n`, head));
    }
    if (result.kind === 'not_found') return count(siteName, plain(response, 404, 'not found\n', head));

    const { entry } = result;
    const etag = `"${entry.sha256}"`;
    const headers: OutgoingHttpHeaders = {
      'content-type': entry.contentType,
      etag,
      'cache-control': cacheControl(result.path, entry, options.immutableMaxAge),
      'x-content-type-options': 'nosniff',
    };
    const changes = headersFor(deployment.headers, host, path);
    if (changes) {
      for (const name of changes.unset) delete headers[name];
      for (const [key, [, value]] of changes.set) headers[key] = value;
    }

    if (result.status === 200 && notModified(request.headers['if-none-match'], etag)) {
      response.writeHead(304, headers);
      response.end();
      return count(siteName, 304);
    }
    const body = blobs.peek(entry.sha256) ?? (await blobs.get(entry.sha256));
    if (!body) {
      // The manifest arrived by replication before this blob did; it will come, so ask to retry rather than 404.
      response.setHeader('retry-after', '5');
      return count(siteName, plain(response, 503, 'this file has not reached this node yet\n', head));
    }
    headers['content-length'] = body.length;
    response.writeHead(result.status, headers);
    if (head) response.end();
    else {
      response.end(body);
      metrics.bytesServed.labels(siteName).inc(body.length);
    }
    count(siteName, result.status);
  }

  function count(site: string, status: number): void {
    metrics.requests.labels(site, String(status)).inc();
  }

  async function healthz(response: ServerResponse, head: boolean): Promise<void> {
    const reason = !index.loaded ? 'pages index not loaded' : await health.problem();
    const body = JSON.stringify(reason ? { status: 'unavailable', reason } : { status: 'ok', sites: index.siteCount, deployments: index.deploymentCount, cachedBytes: blobs.size }) + '\n';
    response.writeHead(reason ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    response.end(head ? undefined : body);
  }

  return {
    server,
    listener,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function plain(response: ServerResponse, status: number, text: string, head: boolean): number {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
  response.end(head ? undefined : text);
  return status;
}

function cacheControl(path: string, entry: FileEntry, immutableMaxAge: number): string {
  if (isHtml(entry) || immutableMaxAge <= 0 || !isFingerprinted(path)) return REVALIDATE;
  return `public, max-age=${immutableMaxAge}, immutable`;
}

/** RFC 9110 §13.1.2: If-None-Match uses the weak comparison; `*` matches any current representation. */
function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Whether the store answers, checked at most once a second so probes cannot load it. */
class StoreHealth {
  private lastOk = Date.now();
  private lastError: string | undefined;
  private checking: Promise<void> | undefined;
  private checkedAt = 0;

  constructor(
    private readonly store: Store,
    private readonly staleMs: number,
  ) {}

  async problem(): Promise<string | undefined> {
    if (Date.now() - this.checkedAt >= STORE_CHECK_MS) {
      this.checking ??= this.check().finally(() => (this.checking = undefined));
      await this.checking;
    }
    if (this.lastError === undefined) return undefined;
    const age = Date.now() - this.lastOk;
    return age > this.staleMs ? `store unreachable for ${Math.round(age / 1000)} s: ${this.lastError}` : undefined;
  }

  private async check(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.updateSeq(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${STORE_CHECK_TIMEOUT_MS} ms`)), STORE_CHECK_TIMEOUT_MS);
        }),
      ]);
      this.lastOk = Date.now();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.checkedAt = Date.now();
    }
  }
}
