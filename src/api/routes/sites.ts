// /v1/sites: list, show, create or change settings (aliases, previews), and garbage collection of pages data.

import type { FastifyInstance } from 'fastify';
import { collectGarbage, DEFAULT_GRACE_MS, DEFAULT_KEEP } from '../../pages/gc.js';
import { isValidHost, normalizeHost, type SiteDoc } from '../../pages/model.js';
import type { Pages } from '../../pages/pages.js';
import { ConflictError, type Store } from '../../store/store.js';
import { ApiError } from '../../errors.js';
import { deploymentSummary, siteUrls } from './deploys.js';
import { adminFirst } from '../auth.js';
import { allowSite, siteParam } from './pages-access.js';

export interface SiteRoutesOptions {
  store: Store;
  pages: Pages;
}

export async function siteRoutes(app: FastifyInstance, options: SiteRoutesOptions): Promise<void> {
  const { store, pages } = options;
  const { index, service } = pages;

  const view = (site: SiteDoc) => {
    const production = index.production(site);
    return {
      host: site.host,
      aliases: site.aliases,
      previews: site.previews,
      https: site.https ?? { redirect: false, hstsMaxAge: 0 },
      production: site.production,
      previous: site.previous,
      serving: production?.id ?? null,
      deployments: index.deploymentsOf(site.host).length,
      current: production ? deploymentSummary(pages, production, site) : null,
      ...siteUrls(pages, site.host),
      updatedAt: site.updatedAt,
    };
  };

  app.get('/v1/sites', async (request) => {
    const scope = request.principal?.scope ?? '';
    const sites = index.allSites().filter((site) => scope === 'admin' || scope === `site:${site.host}`);
    return { sites: sites.map(view) };
  });

  app.get<{ Params: { host: string } }>('/v1/sites/:host', async (request) => {
    const host = siteParam(request.params.host);
    allowSite(request, host);
    const site = index.site(host);
    if (!site) throw new ApiError('site_not_found', `site ${host} does not exist`, 'host');
    return view(site);
  });

  app.put<{ Params: { host: string }; Body: { aliases?: string[]; previews?: boolean; httpsRedirect?: boolean; hstsMaxAge?: number } }>(
    '/v1/sites/:host',
    {
      // Aliases claim hostnames, so only an admin may change site settings.
      ...adminFirst('changing site settings'),
      schema: {
        body: {
          type: 'object',
          properties: {
            aliases: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 253 } },
            previews: { type: 'boolean' },
            httpsRedirect: { type: 'boolean' },
            hstsMaxAge: { type: 'integer', minimum: 0, maximum: 63_072_000 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const host = siteParam(request.params.host);
      const aliases = request.body.aliases?.map((raw, i) => {
        const alias = normalizeHost(raw);
        if (!isValidHost(alias)) throw new ApiError('bad_request', `"${raw}" is not a hostname`, `aliases.${i}`);
        const owner = index.siteForHost(alias);
        if (alias === host || (owner && owner.host !== host)) throw new ApiError('conflict', `${alias} is already served by site ${owner?.host ?? host}`, `aliases.${i}`);
        return alias;
      });
      for (let attempt = 0; attempt < 5; attempt++) {
        const existing = await service.ensureSite(host, { aliases, previews: request.body.previews });
        const { httpsRedirect, hstsMaxAge } = request.body;
        const https = httpsRedirect === undefined && hstsMaxAge === undefined ? existing.https : { redirect: httpsRedirect ?? existing.https?.redirect ?? false, hstsMaxAge: hstsMaxAge ?? existing.https?.hstsMaxAge ?? 0 };
        const next: SiteDoc = {
          ...existing,
          ...(aliases ? { aliases } : {}),
          ...(request.body.previews !== undefined ? { previews: request.body.previews } : {}),
          ...(https ? { https } : {}),
          updatedAt: new Date().toISOString(),
        };
        try {
          await store.put(next);
        } catch (err) {
          if (err instanceof ConflictError) continue;
          throw err;
        }
        await index.waitFor(() => index.site(host)?.updatedAt === next.updatedAt, 2000);
        return view(index.site(host) ?? next);
      }
      throw new ApiError('conflict', `site ${host} kept changing; try again`, 'host');
    },
  );

  app.post<{ Body: { keep?: number; graceSeconds?: number } | undefined }>(
    '/v1/pages/gc',
    {
      ...adminFirst('garbage collection'),
      schema: {
        body: {
          type: 'object',
          properties: { keep: { type: 'integer', minimum: 1, maximum: 1000 }, graceSeconds: { type: 'integer', minimum: 0, maximum: 30 * 86400 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const keep = request.body?.keep ?? DEFAULT_KEEP;
      const graceMs = request.body?.graceSeconds !== undefined ? request.body.graceSeconds * 1000 : DEFAULT_GRACE_MS;
      return collectGarbage(store, pages.blobs, pages.metrics, pages.logger, { keep, graceMs });
    },
  );
}
