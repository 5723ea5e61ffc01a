// Key check for the API: `Authorization: Bearer KEY`, `X-API-Key: KEY` (what PowerDNS clients send) or HTTP Basic
// with the key as the password (what lego's httpreq sends). It runs in an onRequest hook, before the body is read:
// a request without a valid key never has its body parsed (issue 12: 10 MB bodies were parsed before the check).
// Every route needs a key except the few in OPEN_ROUTES, so a new route is closed until someone opens it here.
// Failed attempts are counted per client address and per presented credential (rate-limit.ts): a limited address
// is answered 429 without a lookup when it sends no key or a key that keeps failing, but a valid key always passes.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { checkKey, hashKey, type Principal } from '../keys/api-keys.js';
import type { KeyIndex } from '../keys/key-index.js';
import type { Store } from '../store/store.js';
import { ApiError } from '../errors.js';
import { DEFAULT_FAILURE_LIMIT, FailureLimiter, type FailureLimitOptions } from './rate-limit.js';
import { credentialParam } from './url-secrets.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyInstance {
    authGuard?: AuthGuard;
  }
}

/**
 * The routes a request reaches without an API key ("METHOD /pattern"; HEAD goes with GET), and why. Everything
 * else needs a valid key, checked before its body is read. test/api/authorization.test.ts checks every route.
 */
export const OPEN_ROUTES: ReadonlyMap<string, string> = new Map([
  ['GET /healthz', 'monitors and load balancers'],
  ['GET /metrics', 'Prometheus'],
  ['GET /v1/openapi.json', 'the API description'],
  ['GET /v1/docs', 'the API description, as a page'],
  ['GET /health', 'acme-dns clients check it before registering'],
  ['GET /api', 'PowerDNS clients discover the API version'],
  ['POST /update', "acme-dns: the registration's own X-Api-User and X-Api-Key, checked by the route before its body is read"],
]);

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

/** Authenticates every request that is not to an open route, before its body is read; refuses keys in URLs. */
export function installAuthentication(app: FastifyInstance, store: Store): void {
  app.addHook('onRequest', async (request, reply) => {
    const param = credentialParam(request.url);
    if (param !== undefined) {
      throw new ApiError(
        'key_in_query',
        `credentials are not accepted in the URL (query parameter "${param}"): URLs end up in logs and histories. Send the key as "Authorization: Bearer KEY" or "X-API-Key: KEY", and treat this one as exposed: revoke it and create another`,
        param,
      );
    }
    if (OPEN_ROUTES.has(routeKey(request))) return;
    await identify(store, request, reply);
  });
}

/** "GET /v1/zones/:zone" for a matched route; an unmatched URL needs a key too (a 404 is no reason to read a body). */
function routeKey(request: FastifyRequest): string {
  return `${request.method === 'HEAD' ? 'GET' : request.method} ${request.routeOptions.url ?? '(no route)'}`;
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

/** The limiter's bucket for a client address. */
export const addressBucket = (request: FastifyRequest): string => `address ${request.ip}`;

/** A 429 when `bucket` failed too often, with Retry-After; undefined when it may go on. */
export function limitedError(request: FastifyRequest, reply: FastifyReply, bucket: string, what: string, field: string): ApiError | undefined {
  const guard = request.server.authGuard;
  const retry = guard?.limiter.retryAfter(bucket) ?? 0;
  if (retry === 0) return undefined;
  guard?.limited.inc();
  void reply.header('retry-after', String(retry));
  return new ApiError('too_many_requests', `too many failed authentications ${what}; retry in ${retry} s`, field);
}

/**
 * Counts a failed authentication against the address and `credential` (when one was presented) and returns the
 * error to answer: 429 when the address was over its limit already, else 401 with `message`.
 */
export function failedAuthentication(request: FastifyRequest, reply: FastifyReply, reason: string, message: string, field: string, credential?: string): ApiError {
  const guard = request.server.authGuard;
  guard?.failures.labels(reason).inc();
  const limited = limitedError(request, reply, addressBucket(request), `from ${request.ip}`, field); // before this one counts
  guard?.limiter.fail(addressBucket(request));
  if (credential !== undefined) guard?.limiter.fail(credential);
  return limited ?? new ApiError('unauthorized', message, field);
}

/** Who sent this request, by key; 401 without a valid key, 429 after too many failures. Looked up once per request. */
export async function identify(store: Store, request: FastifyRequest, reply: FastifyReply, secret = presentedKey(request)): Promise<Principal> {
  if (request.principal) return request.principal;
  if (!secret) {
    throw (
      limitedError(request, reply, addressBucket(request), `from ${request.ip}`, 'authorization') ??
      failedAuthentication(request, reply, 'missing', 'an API key is required: send "Authorization: Bearer KEY" or "X-API-Key: KEY"', 'authorization')
    );
  }
  // A key that keeps failing (a revoked one left in a cron job, one guess replayed) is refused without a lookup.
  const credential = `key ${hashKey(secret).slice(0, 32)}`;
  const repeated = limitedError(request, reply, credential, 'with this key', 'authorization');
  if (repeated) throw repeated;
  // Memory first; a key not known there (created a moment ago) is looked up in the store, which may answer 503.
  const result = request.server.authGuard?.keys?.check(secret) ?? (await checkKey(store, secret));
  if ('failure' in result) {
    const fail = (reason: string, message: string) => failedAuthentication(request, reply, reason, message, 'authorization', credential);
    if (result.failure === 'revoked') throw fail('revoked', `the API key "${result.name}" has been revoked`);
    if (result.failure === 'expired') throw fail('expired', `the API key "${result.name}" has expired`);
    throw fail('unknown', 'the API key is not valid');
  }
  request.principal = result.principal;
  return result.principal;
}

export function forbidden(request: FastifyRequest, principal: Principal, what: string): ApiError {
  request.server.authGuard?.failures.labels('scope').inc();
  return new ApiError('forbidden', `key "${principal.name}" has scope ${principal.scope}, which does not allow ${what}`, 'authorization');
}

/** An onRequest hook for admin-only routes: the key's scope is checked before the body is read too. */
export function requireAdmin(store: Store) {
  return async function checkAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const principal = await identify(store, request, reply);
    if (principal.scope !== 'admin') throw forbidden(request, principal, 'this (it needs admin)');
  };
}

/**
 * Route options for an admin-only route: the key's scope is checked in onRequest, before the body is read (the key
 * itself was checked by the hook above), so a key without it gets 403 whatever it sent. `what` names the action.
 */
export function adminFirst(what: string): { onRequest: (request: FastifyRequest) => Promise<void> } {
  return {
    onRequest: async (request) => {
      const principal = request.principal;
      if (!principal) throw new ApiError('unauthorized', 'an API key is required', 'authorization');
      if (principal.scope !== 'admin') throw forbidden(request, principal, `${what} (it needs admin)`);
    },
  };
}
