// acme-dns compatible endpoints (POST /register, POST /update, GET /health) so clients built for acme-dns (lego
// `acme-dns`, certbot's acme-dns-auth hook, cert-manager) work unchanged. Each registration owns one name,
// <uuid>.<acme-dns domain>, which the user's _acme-challenge CNAME points at. Unlike acme-dns, values are not
// limited to two (but to MAX_CHALLENGE_VALUES, as every challenge name): each expires on its own. Registering needs
// an admin key (acme-dns leaves it open); `allowfrom` is checked at registration and enforced on every update.

import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allowsAddress, parseAllowFrom } from '../../acme/allowfrom.js';
import { checkValue, zoneFor } from '../../acme/challenges.js';
import { hashKey } from '../../keys/api-keys.js';
import type { StoredDoc } from '../../store/store.js';
import { audit } from '../audit.js';
import { addressBucket, adminFirst, failedAuthentication, limitedError } from '../auth.js';
import { ApiError } from '../../errors.js';
import { challengeService, type AcmeRoutesOptions } from './acme.js';

export const ACME_DNS_PREFIX = 'acmedns/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
  /** The registration each /update request authenticated as (set by its onRequest hook). */
  const registrations = new WeakMap<FastifyRequest, Registration>();

  app.get('/health', async (_request, reply) => reply.status(200).send());

  app.post<{ Body: { allowfrom?: unknown } | undefined }>('/register', adminFirst('registering'), async (request, reply) => {
    if (!domain) throw new ApiError('not_found', 'acme-dns is not enabled on this node: start it with --acme-dns-domain NAME', undefined);
    if (!zoneFor(sync.zoneNames(), domain + '.')) throw new ApiError('zone_not_found', `no zone served here contains the acme-dns domain ${domain}`, undefined);
    const allowfrom = parseAllowFrom(request.body?.allowfrom);
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
    audit(request, 'acme-dns.register', { username, fulldomain: doc.fulldomain, allowfrom });
    return reply.status(201).send({ username, password, fulldomain: doc.fulldomain, subdomain, allowfrom });
  });

  // The registration's own credentials, checked before the body is read, with the same failure limits as API keys:
  // per address, and per user name (so one registration attacked from many addresses is limited too).
  const checkRegistration = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const user = request.headers['x-api-user'];
    const password = request.headers['x-api-key'];
    const valid = typeof user === 'string' && UUID.test(user);
    const credential = valid ? `acme-dns ${user}` : undefined;
    // As for API keys: a limited address still gets a valid registration through; a user that keeps failing does not.
    const limited = credential
      ? limitedError(request, reply, credential, `for acme-dns user ${user as string}`, 'x-api-key')
      : limitedError(request, reply, addressBucket(request), `from ${request.ip}`, 'x-api-key');
    if (limited) throw limited;
    const doc = valid ? ((await store.get(ACME_DNS_PREFIX + user)) as Registration | undefined) : undefined;
    const ok = doc !== undefined && typeof password === 'string' && timingSafeEqual(Buffer.from(hashKey(password), 'hex'), Buffer.from(doc.hash, 'hex'));
    if (!ok || !doc) throw failedAuthentication(request, reply, 'acme-dns', 'X-Api-User and X-Api-Key do not match a registration', 'x-api-key', credential);
    if (!allowsAddress(doc.allowfrom ?? [], request.ip)) {
      request.server.authGuard?.failures.labels('acme-dns-allowfrom').inc();
      throw new ApiError('forbidden', `registration ${doc.username} accepts updates only from ${doc.allowfrom.join(', ')}, not from ${request.ip}`, 'allowfrom');
    }
    registrations.set(request, doc);
  };

  app.post<{ Body: { subdomain?: unknown; txt?: unknown } }>('/update', { onRequest: checkRegistration }, async (request) => {
    const doc = registrations.get(request) as Registration;
    const body = request.body ?? {};
    if (body.subdomain !== doc.subdomain) throw new ApiError('forbidden', `registration ${doc.username} owns subdomain ${doc.subdomain}, not ${String(body.subdomain)}`, 'subdomain');
    const value = checkValue(body.txt, 'txt');
    // The registration itself is the credential: it may write only its own name.
    request.principal = { keyId: doc._id, name: `acme-dns ${doc.username}`, scope: 'admin' };
    await service.present(request, doc.fulldomain + '.', value);
    return { txt: value };
  });
}
