// ACME DNS-01 over HTTP: /v1/acme/challenges (add/remove one value, list) and lego's httpreq
// (/v1/acme/httpreq/present|cleanup with {"fqdn","value"}). Keys: admin, zone:NAME of the zone, or acme:NAME for
// _acme-challenge.NAME and below.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACME_FIELD, activeChallenges, addChallenge, challengeName, checkValue, removeChallenge, toFqdn, zoneFor, type ChallengeSettings } from '../../acme/challenges.js';
import { zoneNameservers } from '../../acme/nameservers.js';
import type { AcmeMetrics } from '../../acme/sweeper.js';
import type { Principal } from '../../keys/api-keys.js';
import { allowsChallenge, scopeOf } from '../../keys/scopes.js';
import type { Store } from '../../store/store.js';
import type { Catalog } from '../../zone/catalog.js';
import type { ZoneSync } from '../../zone/zone-sync.js';
import { audit } from '../audit.js';
import { forbidden } from '../auth.js';
import { ApiError } from '../../errors.js';
import { waitServed, type ServedZones } from '../wait-served.js';

export interface AcmeRoutesOptions {
  store: Store;
  sync: ZoneSync;
  catalog: Catalog;
  /** Which serial every answering process serves: writes wait for it. */
  served: ServedZones;
  settings: ChallengeSettings;
  metrics: AcmeMetrics;
}

export interface ChallengeService {
  present(request: FastifyRequest, fqdn: string, value: string): Promise<Record<string, unknown>>;
  cleanup(request: FastifyRequest, fqdn: string, value: string): Promise<{ removed: boolean }>;
}

/** Adding and removing one value at a name, with the scope check, the audit line and the metrics. */
export function challengeService(options: AcmeRoutesOptions): ChallengeService {
  const { store, sync, catalog, settings, metrics, served: servedZones } = options;
  const locate = (request: FastifyRequest, fqdn: string, field: string): string => {
    const zone = zoneFor(sync.zoneNames(), fqdn);
    const principal = request.principal as Principal;
    if (!allowsChallenge(scopeOf(principal.scope), fqdn, zone)) throw forbidden(request, principal, `challenge values at ${fqdn}`);
    if (!zone) throw new ApiError('zone_not_found', `no zone served here contains ${fqdn}`, field);
    return zone;
  };
  return {
    async present(request, fqdn, value) {
      const zone = locate(request, fqdn, 'domain');
      try {
        const result = await addChallenge(store, zone, fqdn, value, settings);
        const served = await waitServed(servedZones, zone, result.serial);
        metrics.writes.labels('add', 'ok').inc();
        audit(request, 'acme.add', { zone, name: fqdn, value });
        return { zone, name: fqdn, value, ttl: settings.ttl, expiresAt: new Date(Date.now() + settings.lifetimeMs).toISOString(), served, nameservers: zoneNameservers(sync, zone) };
      } catch (err) {
        metrics.writes.labels('add', 'failed').inc();
        throw err;
      }
    },
    async cleanup(request, fqdn, value) {
      const zone = locate(request, fqdn, 'domain');
      try {
        const { removed, result } = await removeChallenge(store, zone, fqdn, value, settings);
        if (result.changed) await waitServed(servedZones, zone, result.serial);
        metrics.writes.labels('remove', removed ? 'ok' : 'absent').inc();
        if (removed) audit(request, 'acme.remove', { zone, name: fqdn, value });
        return { removed };
      } catch (err) {
        metrics.writes.labels('remove', 'failed').inc();
        throw err;
      }
    },
  };
}

const challengeBody = {
  type: 'object',
  properties: { domain: { type: 'string', maxLength: 255 }, value: { type: 'string', maxLength: 255 } },
  required: ['domain', 'value'],
};
const httpreqBody = {
  type: 'object',
  properties: { fqdn: { type: 'string', maxLength: 255 }, value: { type: 'string', maxLength: 255 } },
  required: ['fqdn', 'value'],
};

export async function acmeRoutes(app: FastifyInstance, options: AcmeRoutesOptions): Promise<void> {
  const { store, sync } = options;
  const service = challengeService(options);

  app.get('/v1/acme/challenges', async (request) => {
    const scope = scopeOf((request.principal as Principal).scope);
    const all = activeChallenges(sync.rrsetDocsWith(ACME_FIELD));
    return { challenges: all.filter((c) => allowsChallenge(scope, c.name, c.zone)) };
  });

  app.post<{ Body: { domain: string; value: string } }>('/v1/acme/challenges', { schema: { body: challengeBody } }, async (request, reply) => {
    const fqdn = challengeName(request.body.domain);
    const value = checkValue(request.body.value);
    return reply.status(201).send(await service.present(request, fqdn, value));
  });

  app.delete<{ Body: { domain: string; value: string } }>('/v1/acme/challenges', { schema: { body: challengeBody } }, async (request, reply) => {
    const fqdn = challengeName(request.body.domain);
    const value = checkValue(request.body.value);
    const { removed } = await service.cleanup(request, fqdn, value);
    if (!removed) throw new ApiError('challenge_not_found', `${fqdn} has no value ${value}`, 'value');
    return reply.status(204).send();
  });

  // lego --dns httpreq (default mode): fqdn is the full challenge name with a trailing dot.
  app.post<{ Body: { fqdn: string; value: string } }>('/v1/acme/httpreq/present', { schema: { body: httpreqBody } }, async (request) => {
    const fqdn = toFqdn(request.body.fqdn, 'fqdn');
    return service.present(request, fqdn, checkValue(request.body.value));
  });
  app.post<{ Body: { fqdn: string; value: string } }>('/v1/acme/httpreq/cleanup', { schema: { body: httpreqBody } }, async (request) => {
    const fqdn = toFqdn(request.body.fqdn, 'fqdn');
    return service.cleanup(request, fqdn, checkValue(request.body.value));
  });
}
