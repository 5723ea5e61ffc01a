// acme-dns compatible endpoints (POST /register, POST /update, GET /health) so clients built for acme-dns (lego
// `acme-dns`, certbot's acme-dns-auth hook, cert-manager) work unchanged. Each registration owns one name,
// <uuid>.<acme-dns domain>, which the user's _acme-challenge CNAME points at. Unlike acme-dns, values are not
// limited to two: each expires on its own. Registering needs an admin key (acme-dns leaves it open).

import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { checkValue, zoneFor } from '../../acme/challenges.js';
import { hashKey } from '../../keys/api-keys.js';
import type { StoredDoc } from '../../store/store.js';
import { audit } from '../audit.js';
import { identify } from '../auth.js';
import { ApiError } from '../../errors.js';
import { challengeService, type AcmeRoutesOptions } from './acme.js';

export const ACME_DNS_PREFIX = 'acmedns/';

interface Registration extends StoredDoc {
  type: 'acme-dns';
  username: string;
  hash: string;
  subdomain: string;
  fulldomain: string;
  allowfrom: string[];
  createdAt: string;
}

export async function acmeDnsRoutes(app: FastifyInstance, options: AcmeRoutesOptions & { domain?: string }): Promise<void> {
  const { store, sync } = options;
  const service = challengeService(options);
  const domain = options.domain?.replace(/\.$/, '').toLowerCase();

  app.get('/health', async (_request, reply) => reply.status(200).send());

  app.post<{ Body: { allowfrom?: string[] } | undefined }>('/register', async (request, reply) => {
    const principal = await identify(store, request, reply);
    if (principal.scope !== 'admin') throw new ApiError('forbidden', `key "${principal.name}" has scope ${principal.scope}; registering needs admin`, 'authorization');
    if (!domain) throw new ApiError('not_found', 'acme-dns is not enabled on this node: start it with --acme-dns-domain NAME', undefined);
    if (!zoneFor(sync.zoneNames(), domain + '.')) throw new ApiError('zone_not_found', `no zone served here contains the acme-dns domain ${domain}`, undefined);
    const allowfrom = request.body?.allowfrom ?? [];
    if (!Array.isArray(allowfrom) || !allowfrom.every((a) => typeof a === 'string')) throw new ApiError('bad_request', 'allowfrom must be a list of CIDR ranges', 'allowfrom');
    const username = randomUUID();
    const subdomain = randomUUID();
    const password = randomBytes(30).toString('base64url');
    const doc: Registration = {
      _id: ACME_DNS_PREFIX + username,
      type: 'acme-dns',
      username,
      hash: hashKey(password),
      subdomain,
      fulldomain: `${subdomain}.${domain}`,
      allowfrom,
      createdAt: new Date().toISOString(),
    };
    await store.put(doc);
    audit(request, 'acme-dns.register', { username, fulldomain: doc.fulldomain });
    return reply.status(201).send({ username, password, fulldomain: doc.fulldomain, subdomain, allowfrom });
  });

  app.post<{ Body: { subdomain?: unknown; txt?: unknown } }>('/update', async (request) => {
    const user = request.headers['x-api-user'];
    const password = request.headers['x-api-key'];
    const guard = request.server.authGuard;
    const retry = guard?.limiter.retryAfter(request.ip) ?? 0;
    if (retry > 0) throw new ApiError('too_many_requests', `too many failed authentications from ${request.ip}; retry in ${retry} s`, 'x-api-key');
    const doc = typeof user === 'string' && /^[0-9a-f-]{36}$/.test(user) ? ((await store.get(ACME_DNS_PREFIX + user)) as Registration | undefined) : undefined;
    const ok = doc !== undefined && typeof password === 'string' && timingSafeEqual(Buffer.from(hashKey(password), 'hex'), Buffer.from(doc.hash, 'hex'));
    if (!ok || !doc) {
      guard?.limiter.fail(request.ip);
      guard?.failures.labels('acme-dns').inc();
      throw new ApiError('unauthorized', 'X-Api-User and X-Api-Key do not match a registration', 'x-api-key');
    }
    const body = request.body ?? {};
    if (body.subdomain !== doc.subdomain) throw new ApiError('forbidden', `registration ${doc.username} owns subdomain ${doc.subdomain}, not ${String(body.subdomain)}`, 'subdomain');
    const value = checkValue(body.txt, 'txt');
    // The registration itself is the credential: it may write only its own name.
    request.principal = { keyId: doc._id, name: `acme-dns ${doc.username}`, scope: 'admin' };
    await service.present(request, doc.fulldomain + '.', value);
    return { txt: value };
  });
}
