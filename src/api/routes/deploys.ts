// The deploy protocol under /v1:
//   POST /v1/blobs/missing {hashes}        → {missing}: which files the client must upload
//   PUT  /v1/blobs/:sha256 (raw bytes)     → stored once, hash verified as it arrives, 25 MiB limit (413),
//                                            Content-Length required (411)
//   POST /v1/sites/:host/deployments {files: {path: {sha256, size}}, message?, preview?}
//                                          → 201 {id, ...}; 409 missing_blobs with the list when any is absent
//   GET  /v1/sites/:host/deployments[/:id], POST /v1/sites/:host/promote {deployment}, POST /v1/sites/:host/rollback

import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { DeploymentDoc, SiteDoc } from '../../pages/model.js';
import { SHA256_RE } from '../../pages/model.js';
import type { Pages } from '../../pages/pages.js';
import type { LiveDeployment } from '../../pages/pages-index.js';
import type { Store } from '../../store/store.js';
import { ApiError } from '../../errors.js';
import { allowAnySite, allowSite, siteParam } from './pages-access.js';

export interface DeployRoutesOptions {
  store: Store;
  pages: Pages;
}

export function siteUrls(pages: Pages, host: string, deploymentId?: string): { url: string; previewUrl?: string } {
  const port = pages.port === 80 ? '' : `:${pages.port}`;
  return {
    url: `http://${host}${port}/`,
    ...(deploymentId ? { previewUrl: `http://${deploymentId}.${pages.settings.previewDomain}${port}/` } : {}),
  };
}

export function deploymentSummary(pages: Pages, d: LiveDeployment | DeploymentDoc, site: SiteDoc | undefined) {
  const files = d.files instanceof Map ? d.files.size : Object.keys(d.files).length;
  const bytes = 'bytes' in d && typeof d.bytes === 'number' ? d.bytes : Object.values((d as DeploymentDoc).files).reduce((n, f) => n + f.size, 0);
  return {
    id: d.id,
    site: d.site,
    createdAt: d.createdAt,
    message: d.message ?? null,
    author: d.author,
    files,
    bytes,
    production: site?.production === d.id,
    previewUrl: siteUrls(pages, d.site, d.id).previewUrl,
  };
}

export async function deployRoutes(app: FastifyInstance, options: DeployRoutesOptions): Promise<void> {
  const { store, pages } = options;
  const { service, index } = pages;
  // Blob bodies are read as a stream by the route itself, which counts and hashes them as they arrive.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  app.post<{ Body: { hashes: string[] } }>(
    '/v1/blobs/missing',
    {
      schema: {
        body: {
          type: 'object',
          required: ['hashes'],
          properties: { hashes: { type: 'array', maxItems: 100_000, items: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      allowAnySite(request);
      return { missing: await service.missing(request.body.hashes) };
    },
  );

  app.put<{ Params: { sha256: string } }>('/v1/blobs/:sha256', async (request, reply) => {
    allowAnySite(request);
    const { sha256 } = request.params;
    if (!SHA256_RE.test(sha256)) throw new ApiError('bad_request', `"${sha256}" is not a sha256 (64 lower-case hex digits)`, 'sha256');
    // The length is known before a byte is read: over the limit is refused at once, and the file is read into one
    // buffer of that size (a chunked body of unknown length could only be collected and copied again).
    const header = request.headers['content-length'];
    if (header === undefined) throw new ApiError('length_required', 'send the file with a Content-Length header (not chunked)', 'content-length');
    const declared = Number(header);
    if (declared > service.maxFileBytes) {
      throw new ApiError('payload_too_large', `the file is ${declared} bytes, over the limit of ${service.maxFileBytes} bytes per file`, 'body');
    }
    const body = request.body as Readable | undefined;
    if (!body || typeof (body as Partial<Readable>)[Symbol.asyncIterator] !== 'function') {
      throw new ApiError('unsupported_media_type', 'send the file as the request body with Content-Type: application/octet-stream', 'body');
    }
    const result = await service.storeBlob(sha256, body, declared);
    return reply.status(result.stored ? 201 : 200).send({ sha256, size: result.size, stored: result.stored });
  });

  app.post<{ Params: { host: string }; Body: { files: Record<string, { sha256: string; size: number }>; message?: string; preview?: boolean } }>(
    '/v1/sites/:host/deployments',
    {
      schema: {
        body: {
          type: 'object',
          required: ['files'],
          properties: {
            files: { type: 'object', additionalProperties: { type: 'object', required: ['sha256', 'size'], properties: { sha256: { type: 'string' }, size: { type: 'integer', minimum: 0 } } } },
            message: { type: 'string', maxLength: 1000 },
            preview: { type: 'boolean' },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const host = siteParam(request.params.host);
      allowSite(request, host);
      const owner = index.siteForHost(host);
      if (owner && owner.host !== host) throw new ApiError('conflict', `${host} is an alias of site ${owner.host}; deploy to ${owner.host}`, 'host');
      const { deployment, site, served } = await service.commit({
        site: host,
        files: request.body.files,
        message: request.body.message,
        author: request.principal?.keyId ?? 'unknown',
        production: request.body.preview !== true,
      });
      return reply.status(201).send({ ...deploymentSummary(pages, deployment, site), ...siteUrls(pages, host, deployment.id), served });
    },
  );

  app.get<{ Params: { host: string } }>('/v1/sites/:host/deployments', async (request) => {
    const host = siteParam(request.params.host);
    allowSite(request, host);
    const site = index.site(host);
    if (!site) throw new ApiError('site_not_found', `site ${host} does not exist`, 'host');
    return { site: host, production: site.production, deployments: index.deploymentsOf(host).map((d) => deploymentSummary(pages, d, site)) };
  });

  app.get<{ Params: { host: string; id: string } }>('/v1/sites/:host/deployments/:id', async (request) => {
    const host = siteParam(request.params.host);
    allowSite(request, host);
    const deployment = index.deployment(request.params.id);
    if (!deployment || deployment.site !== host) throw new ApiError('deployment_not_found', `site ${host} has no deployment ${request.params.id}`, 'id');
    return {
      ...deploymentSummary(pages, deployment, index.site(host)),
      manifest: Object.fromEntries(deployment.files),
      redirects: deployment.redirects.map(({ from, to, status }) => ({ from, to, status })),
      headers: deployment.headers.map(({ path, host: h, set, unset }) => ({ path, ...(h ? { host: h } : {}), set, unset })),
    };
  });

  const pointerSchema = (required: boolean) => ({
    schema: {
      body: {
        type: 'object',
        ...(required ? { required: ['deployment'] } : {}),
        properties: { deployment: { type: 'string', pattern: '^[0-9a-z]{1,63}$' } },
        additionalProperties: false,
      },
    },
  });

  app.post<{ Params: { host: string }; Body: { deployment: string } }>('/v1/sites/:host/promote', pointerSchema(true), async (request) => {
    const host = siteParam(request.params.host);
    allowSite(request, host);
    const { site, served } = await service.movePointer(host, request.body.deployment, 'promote');
    return { site: host, production: site.production, previous: site.previous, served };
  });

  app.post<{ Params: { host: string }; Body: { deployment?: string } | undefined }>('/v1/sites/:host/rollback', pointerSchema(false), async (request) => {
    const host = siteParam(request.params.host);
    allowSite(request, host);
    const { site, served } = await service.rollback(host, request.body?.deployment);
    return { site: host, production: site.production, previous: site.previous, served };
  });
}
