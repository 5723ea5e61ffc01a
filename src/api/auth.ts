// Key check for the API: `Authorization: Bearer KEY` or `X-API-Key: KEY` (what PowerDNS clients send).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Principal } from '../keys/api-keys.js';
import type { Store } from '../store/store.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (m) return m[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

export function requireKey(store: Store) {
  return async function checkKey(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const secret = presentedKey(request);
    if (!secret) throw new ApiError('unauthorized', 'an API key is required: send "Authorization: Bearer KEY" or "X-API-Key: KEY"', 'authorization');
    const principal = await authenticate(store, secret);
    if (!principal) throw new ApiError('unauthorized', 'the API key is not valid', 'authorization');
    if (principal.scope !== 'admin') throw new ApiError('forbidden', `key "${principal.name}" has scope ${principal.scope}, this needs admin`, 'authorization');
    request.principal = principal;
  };
}
