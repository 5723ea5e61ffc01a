// Who may deploy: an admin key, or a key scoped `site:<host>` for that one site. Shared by deploys.ts and sites.ts.

import type { FastifyRequest } from 'fastify';
import { isValidHost, normalizeHost } from '../../pages/model.js';
import { forbidden } from '../auth.js';
import { ApiError } from '../../errors.js';

export function siteParam(raw: string): string {
  const host = normalizeHost(raw);
  if (!isValidHost(host)) throw new ApiError('bad_request', `"${raw}" is not a hostname`, 'host');
  return host;
}

export function allowSite(request: FastifyRequest, host: string): void {
  const principal = request.principal;
  if (!principal) throw new ApiError('unauthorized', 'an API key is required', 'authorization');
  if (principal.scope === 'admin' || principal.scope === `site:${host}`) return;
  throw forbidden(request, principal, `deploying to site ${host}`);
}

/** Admin, or a key for some site (blob uploads are shared by every site, since they are content-addressed). */
export function allowAnySite(request: FastifyRequest): void {
  const principal = request.principal;
  if (!principal) throw new ApiError('unauthorized', 'an API key is required', 'authorization');
  if (principal.scope === 'admin' || principal.scope.startsWith('site:')) return;
  throw forbidden(request, principal, 'uploading site files');
}
