// /v1/zones/:zone/rrsets: list, get, put (replace one RRset atomically, optionally only if it still has the
// revision the client read), delete. Admin keys and zone:NAME keys of that zone.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../keys/api-keys.js';
import { allowsZone, allowsZoneWrite, childZoneAt, scopeOf } from '../../keys/scopes.js';
import type { Store } from '../../store/store.js';
import type { Catalog } from '../../zone/catalog.js';
import { lowerAscii, nameKey, normalizeName } from '../../proto/names.js';
import { rrTypeCode } from '../../proto/rdata.js';
import { typeName } from '../../proto/constants.js';
import { normalizeRRset } from '../../zone/validate.js';
import { docToRRset, isRRsetDoc, rrsetDocPrefix, zoneDocId, type RRsetDoc } from '../../zone/zone-docs.js';
import type { ZoneSync } from '../../zone/zone-sync.js';
import { updateRRsets } from '../../zone/zone-writer.js';
import { audit } from '../audit.js';
import { nameParam } from '../name-param.js';
import { forbidden } from '../auth.js';
import { ApiError } from '../../errors.js';
import { waitServed, type ServedZones } from '../wait-served.js';

export interface RRsetRoutesOptions {
  store: Store;
  sync: ZoneSync;
  catalog: Catalog;
  /** Which serial every answering process serves: writes wait for it. */
  served: ServedZones;
}

/** A zone name from the request (`field`): its key, or a 400 naming the field. */
export function zoneKey(raw: string, field = 'zone'): string {
  return nameParam(field, `zone name "${raw}"`, () => nameKey(raw.endsWith('.') ? raw : raw + '.'));
}

/** An owner name from a URL: "@" for the apex, relative to the zone, or absolute. */
export function ownerKey(raw: string, zone: string): string {
  return nameParam('name', `name "${raw}"`, () => lowerAscii(normalizeName(raw, zone)));
}

export function typeKey(raw: string): string {
  const code = rrTypeCode(raw.toUpperCase());
  if (code === undefined) throw new ApiError('bad_request', `unknown record type "${raw}"; write unlisted types as TYPEnnn`, 'type');
  return typeName(code);
}

export function checkZoneScope(request: FastifyRequest, principal: Principal, zone: string): void {
  if (!allowsZone(scopeOf(principal.scope), zone)) throw forbidden(request, principal, `zone ${zone}`);
}

/** A write at `name`: the zone's scope, and for a zone: key, not at or below a child zone served on its own. */
export function checkZoneWrite(request: FastifyRequest, principal: Principal, zone: string, name: string, served: Iterable<string>): void {
  checkZoneScope(request, principal, zone);
  if (!allowsZoneWrite(scopeOf(principal.scope), zone, name, served)) {
    throw forbidden(request, principal, `writing ${name}, which is in zone ${childZoneAt(name, zone, served)} (served on its own; it needs admin)`);
  }
}

export function rrsetView(doc: RRsetDoc): Record<string, unknown> {
  return { ...docToRRset(doc), revision: doc._rev ?? null };
}

const rrsetParams = {
  type: 'object',
  properties: { zone: { type: 'string', maxLength: 255 }, name: { type: 'string', maxLength: 255 }, type: { type: 'string', maxLength: 16 } },
  required: ['zone', 'name', 'type'],
};

const putBody = {
  type: 'object',
  properties: {
    ttl: { type: 'integer', minimum: 0, maximum: 2147483647 },
    records: { type: 'array', maxItems: 10000, items: { type: 'string', maxLength: 65535 } },
    pool: { type: 'string', maxLength: 63 },
    revision: { type: ['string', 'null'], maxLength: 100 },
  },
  required: ['ttl'],
  additionalProperties: false,
};

export async function rrsetRoutes(app: FastifyInstance, options: RRsetRoutesOptions): Promise<void> {
  const { store, sync, catalog, served: servedZones } = options;

  const readZone = async (request: FastifyRequest, rawZone: string): Promise<{ zone: string; docs: RRsetDoc[] }> => {
    const zone = zoneKey(rawZone);
    checkZoneScope(request, request.principal as Principal, zone);
    if (!(await store.get(zoneDocId(zone)))) throw new ApiError('zone_not_found', `zone ${zone} does not exist`, 'zone');
    const docs = (await store.list(rrsetDocPrefix(zone))).filter(isRRsetDoc);
    return { zone, docs };
  };

  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/rrsets', async (request) => {
    const { zone, docs } = await readZone(request, request.params.zone);
    return { zone, serial: catalog.get(zone)?.soaSerial ?? null, rrsets: docs.map(rrsetView) };
  });

  app.get<{ Params: { zone: string; name: string; type: string } }>('/v1/zones/:zone/rrsets/:name/:type', { schema: { params: rrsetParams } }, async (request) => {
    const { zone, docs } = await readZone(request, request.params.zone);
    const name = ownerKey(request.params.name, zone);
    const type = typeKey(request.params.type);
    const doc = docs.find((d) => d.name === name && d.rrtype === type);
    if (!doc) throw new ApiError('rrset_not_found', `${name} ${type} does not exist in zone ${zone}`, 'name');
    return rrsetView(doc);
  });

  app.put<{ Params: { zone: string; name: string; type: string }; Body: { ttl: number; records?: string[]; pool?: string; revision?: string | null } }>(
    '/v1/zones/:zone/rrsets/:name/:type',
    { schema: { params: rrsetParams, body: putBody } },
    async (request, reply) => {
      const zone = zoneKey(request.params.zone);
      checkZoneScope(request, request.principal as Principal, zone);
      const body = request.body;
      // The type is part of the URL, as for GET and DELETE: an unknown one is a bad request (400), not a bad RRset.
      const type = typeKey(request.params.type);
      const rrset = normalizeRRset({ name: request.params.name, type, ttl: body.ttl, records: body.records ?? [], pool: body.pool }, zone);
      checkZoneWrite(request, request.principal as Principal, zone, rrset.name, sync.zoneNames());
      let created = false;
      const result = await updateRRsets(store, zone, (current) => {
        created = !current.has(`${rrset.name}/${rrset.type}`);
        return [{ name: rrset.name, type: rrset.type, rrset, revision: body.revision }];
      });
      const served = await waitServed(servedZones, zone, result.serial);
      audit(request, 'rrset.put', { zone, name: rrset.name, type: rrset.type, ttl: rrset.ttl, records: rrset.records, pool: rrset.pool });
      return reply.status(created ? 201 : 200).send({ ...rrset, revision: result.revisions[`${rrset.name}/${rrset.type}`] ?? null, serial: result.serial, served });
    },
  );

  app.delete<{ Params: { zone: string; name: string; type: string }; Querystring: { revision?: string } }>(
    '/v1/zones/:zone/rrsets/:name/:type',
    { schema: { params: rrsetParams, querystring: { type: 'object', properties: { revision: { type: 'string', maxLength: 100 } }, additionalProperties: false } } },
    async (request, reply) => {
      const zone = zoneKey(request.params.zone);
      checkZoneScope(request, request.principal as Principal, zone);
      const name = ownerKey(request.params.name, zone);
      checkZoneWrite(request, request.principal as Principal, zone, name, sync.zoneNames());
      const type = typeKey(request.params.type);
      const result = await updateRRsets(store, zone, (current) => {
        if (!current.has(`${name}/${type}`)) throw new ApiError('rrset_not_found', `${name} ${type} does not exist in zone ${zone}`, 'name');
        return [{ name, type, revision: request.query.revision }];
      });
      await waitServed(servedZones, zone, result.serial);
      audit(request, 'rrset.delete', { zone, name, type });
      return reply.status(204).send();
    },
  );
}
