// Key check for the API: `Authorization: Bearer KEY`, `X-API-Key: KEY` (what PowerDNS clients send) or HTTP Basic
// with the key as the password (what lego's httpreq sends). Failed attempts are counted and limited per address.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { checkKey, type Principal } from '../keys/api-keys.js';
import type { KeyIndex } from '../keys/key-index.js';
import type { Store } from '../store/store.js';
import { ApiError } from './errors.js';
import { DEFAULT_FAILURE_LIMIT, FailureLimiter, type FailureLimitOptions } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    authGuard?: AuthGuard;
  }
}

/** Per-API state of authentication: the failure limiter and its counters (decorated on the app by app.ts). */
export interface AuthGuard {
  limiter: FailureLimiter;
  failures: Counter<'reason'>;
  limited: Counter;
  /** Keys held in memory: checked without the store, and while it is down. */
  keys?: KeyIndex;
}

export function createAuthGuard(registry: Registry, limits: FailureLimitOptions = DEFAULT_FAILURE_LIMIT, keys?: KeyIndex): AuthGuard {
  return {
    keys,
    limiter: new FailureLimiter(limits),
    failures: new Counter({
      name: 'edgedns_api_auth_failures_total',
      help: 'API requests with a missing, unknown, revoked or expired key, or a key without the needed scope',
      labelNames: ['reason'],
      registers: [registry],
    }),
    limited: new Counter({ name: 'edgedns_api_auth_rate_limited_total', help: 'API requests refused with 429 after repeated failed authentication', registers: [registry] }),
  };
}

export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (m) return m[1];
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0 && colon < decoded.length - 1) return decoded.slice(colon + 1);
    }
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

/** Who sent this request, by key; 401 without a valid key, 429 when this address failed too often. */
export async function identify(store: Store, request: FastifyRequest, reply: FastifyReply, secret = presentedKey(request)): Promise<Principal> {
  const guard = request.server.authGuard;
  const retry = guard?.limiter.retryAfter(request.ip) ?? 0;
  if (retry > 0) {
    guard?.limited.inc();
    void reply.header('retry-after', String(retry));
    throw new ApiError('too_many_requests', `too many failed authentications from ${request.ip}; retry in ${retry} s`, 'authorization');
  }
  const fail = (reason: string, message: string): never => {
    guard?.limiter.fail(request.ip);
    guard?.failures.labels(reason).inc();
    throw new ApiError('unauthorized', message, 'authorization');
  };
  if (!secret) return fail('missing', 'an API key is required: send "Authorization: Bearer KEY" or "X-API-Key: KEY"');
  // Memory first; a key not known there (created a moment ago) is looked up in the store, which may answer 503.
  const result = guard?.keys?.check(secret) ?? (await checkKey(store, secret));
  if ('failure' in result) {
    if (result.failure === 'revoked') return fail('revoked', `the API key "${result.name}" has been revoked`);
    if (result.failure === 'expired') return fail('expired', `the API key "${result.name}" has expired`);
    return fail('unknown', 'the API key is not valid');
  }
  request.principal = result.principal;
  return result.principal;
}

/** A preHandler that lets any valid key through; the route checks its scope. */
export function requireAnyKey(store: Store) {
  return async function checkAnyKey(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await identify(store, request, reply);
  };
}

export function forbidden(request: FastifyRequest, principal: Principal, what: string): ApiError {
  request.server.authGuard?.failures.labels('scope').inc();
  return new ApiError('forbidden', `key "${principal.name}" has scope ${principal.scope}, which does not allow ${what}`, 'authorization');
}

export function requireKey(store: Store) {
  return async function checkKey(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const principal = await identify(store, request, reply);
    if (principal.scope !== 'admin') throw forbidden(request, principal, 'this (it needs admin)');
  };
}
