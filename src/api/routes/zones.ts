// /v1/zones: list, import (a BIND zone file as the body), get, export, delete.

import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.js';
import type { Zone } from '../../zone/model.js';
import { docsToZone } from '../../zone/zone-docs.js';
import type { ZoneSync } from '../../zone/zone-sync.js';
import { deleteZone, saveZone } from '../../zone/zone-writer.js';
import { parseZoneFileSteps } from '../../zone/zonefile-parse.js';
import { runSliced } from '../../zone/slices.js';
import { writeZoneFile } from '../../zone/zonefile-write.js';
import { requireAdmin } from '../auth.js';
import { ZONE_BODY_LIMIT } from '../body-limits.js';
import { ApiError } from '../../errors.js';
import { servedWaitMs, waitServed, type ServedZones } from '../wait-served.js';
import type { Catalog } from '../../zone/catalog.js';
import { zoneKey } from './rrsets.js';

export interface ZoneRoutesOptions {
  store: Store;
  sync: ZoneSync;
  catalog: Catalog;
  /** Which serial every answering process serves: writes wait for it. */
  served: ServedZones;
}

export async function zoneRoutes(app: FastifyInstance, options: ZoneRoutesOptions): Promise<void> {
  const { store, sync, catalog, served: servedZones } = options;
  app.addHook('onRequest', requireAdmin(store));

  const currentZone = (name: string): Zone => {
    if (!sync.hasZone(name)) throw new ApiError('zone_not_found', `zone ${name} does not exist`, 'zone');
    return docsToZone(name, sync.rrsetDocs(name));
  };

  app.get('/v1/zones', async () => ({
    zones: sync.zoneNames().map((name) => ({
      name,
      serial: catalog.get(name)?.soaSerial ?? null,
      rrsets: sync.rrsetCount(name),
      served: catalog.get(name) !== undefined,
    })),
  }));

  app.post<{ Querystring: { replace?: string; origin?: string; file?: string } }>(
    '/v1/zones',
    {
      bodyLimit: ZONE_BODY_LIMIT,
      schema: {
        querystring: {
          type: 'object',
          properties: { replace: { type: 'string', enum: ['true', 'false', '1', '0'] }, origin: { type: 'string', maxLength: 255 }, file: { type: 'string', maxLength: 255 } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      if (typeof request.body !== 'string' || request.body.length === 0) {
        throw new ApiError('bad_request', 'send the zone file as the request body (Content-Type: text/dns or text/plain)', 'body');
      }
      const file = request.query.file ?? 'request body';
      const origin = request.query.origin ? zoneKey(request.query.origin, 'origin') : undefined;
      const zone = await runSliced(parseZoneFileSteps(request.body, { origin, file, field: 'body' }));
      const replace = request.query.replace === 'true' || request.query.replace === '1';
      const saved = await saveZone(store, zone, { replace, source: { field: 'body', file } });
      const served = await waitServed(servedZones, saved.zone, saved.serial, servedWaitMs(saved.rrsets));
      return reply.status(saved.created ? 201 : 200).send({ ...saved, served });
    },
  );

  app.get<{ Params: { zone: string } }>('/v1/zones/:zone', async (request) => {
    const name = zoneKey(request.params.zone);
    const zone = currentZone(name);
    return {
      name,
      serial: catalog.get(name)?.soaSerial ?? null,
      rrsets: zone.rrsets.sort((a, b) => (a.name === b.name ? a.type.localeCompare(b.type) : a.name.localeCompare(b.name))),
    };
  });

  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/export', async (request, reply) => {
    const zone = currentZone(zoneKey(request.params.zone));
    return reply.type('text/dns; charset=utf-8').send(writeZoneFile(zone));
  });

  app.delete<{ Params: { zone: string } }>('/v1/zones/:zone', async (request, reply) => {
    await deleteZone(store, zoneKey(request.params.zone));
    return reply.status(204).send();
  });
}
