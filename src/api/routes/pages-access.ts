// Who may deploy: an admin key, or a key scoped `site:<host>` for that one site. Shared by deploys.ts and sites.ts.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { isValidHost, normalizeHost } from '../../pages/model.js';
import { PagesError } from '../../pages/deploy-service.js';
import { forbidden } from '../auth.js';
import { ApiError, type ErrorCode } from '../errors.js';

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

export function allowAdmin(request: FastifyRequest, what: string): void {
  const principal = request.principal;
  if (!principal) throw new ApiError('unauthorized', 'an API key is required', 'authorization');
  if (principal.scope !== 'admin') throw forbidden(request, principal, `${what} (it needs admin)`);
}

const CODES: Record<PagesError['code'], ErrorCode> = {
  invalid_path: 'invalid_path',
  too_many_files: 'too_many_files',
  missing_blobs: 'missing_blobs',
  invalid_rules: 'invalid_rules',
  hash_mismatch: 'hash_mismatch',
  file_too_large: 'payload_too_large',
  site_not_found: 'site_not_found',
  deployment_not_found: 'deployment_not_found',
  bad_request: 'bad_request',
};

/**
 * Runs `work`, turning a PagesError into the API's error body. missing_blobs also lists the hashes under "missing",
 * so a client can upload exactly those and commit again.
 */
export async function pagesCall<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof PagesError)) throw err;
    const apiError = new ApiError(CODES[err.code], err.message, err.field);
    if (err.missing) return reply.status(apiError.status).send({ ...apiError.toJSON(), missing: err.missing });
    throw apiError;
  }
}
