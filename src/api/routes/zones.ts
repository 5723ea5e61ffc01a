// /v1/zones: list, import (a BIND zone file as the body), get, export, delete.

import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.js';
import type { Zone } from '../../zone/model.js';
import { nameKey, NameError } from '../../proto/names.js';
import { ZoneValidationError } from '../../zone/validate.js';
import { docsToZone } from '../../zone/zone-docs.js';
import type { ZoneSync } from '../../zone/zone-sync.js';
import { deleteZone, saveZone, ZoneExistsError, ZoneNotFoundError } from '../../zone/zone-writer.js';
import { parseZoneFileSteps, ZoneFileError } from '../../zone/zonefile-parse.js';
import { runSliced } from '../../zone/slices.js';
import { writeZoneFile } from '../../zone/zonefile-write.js';
import { requireKey } from '../auth.js';
import { ApiError } from '../errors.js';
import { servedWaitMs, waitServed, type ServedZones } from '../wait-served.js';
import type { Catalog } from '../../zone/catalog.js';

export interface ZoneRoutesOptions {
  store: Store;
  sync: ZoneSync;
  catalog: Catalog;
  /** Which serial every answering process serves: writes wait for it. */
  served: ServedZones;
}

function zoneParam(raw: string): string {
  try {
    return nameKey(raw.endsWith('.') ? raw : raw + '.');
  } catch (err) {
    throw new ApiError('bad_request', `zone name "${raw}": ${(err as Error).message}`, 'zone');
  }
}

export async function zoneRoutes(app: FastifyInstance, options: ZoneRoutesOptions): Promise<void> {
  const { store, sync, catalog, served: servedZones } = options;
  app.addHook('preHandler', requireKey(store));

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
      let zone: Zone;
      try {
        const origin = request.query.origin ? zoneParam(request.query.origin) : undefined;
        zone = await runSliced(parseZoneFileSteps(request.body, { origin, file }));
      } catch (err) {
        if (err instanceof ZoneFileError || err instanceof NameError) throw new ApiError('invalid_zone_file', err.message, 'body');
        throw err;
      }
      const replace = request.query.replace === 'true' || request.query.replace === '1';
      try {
        const saved = await saveZone(store, zone, { replace });
        const served = await waitServed(servedZones, saved.zone, saved.serial, servedWaitMs(saved.rrsets));
        return reply.status(saved.created ? 201 : 200).send({ ...saved, served });
      } catch (err) {
        if (err instanceof ZoneExistsError) throw new ApiError('zone_exists', err.message, 'zone');
        if (err instanceof ZoneValidationError) throw new ApiError('invalid_zone', `${file}: ${err.message}`, 'body');
        throw err;
      }
    },
  );

  app.get<{ Params: { zone: string } }>('/v1/zones/:zone', async (request) => {
    const name = zoneParam(request.params.zone);
    const zone = currentZone(name);
    return {
      name,
      serial: catalog.get(name)?.soaSerial ?? null,
      rrsets: zone.rrsets.sort((a, b) => (a.name === b.name ? a.type.localeCompare(b.type) : a.name.localeCompare(b.name))),
    };
  });

  app.get<{ Params: { zone: string } }>('/v1/zones/:zone/export', async (request, reply) => {
    const zone = currentZone(zoneParam(request.params.zone));
    return reply.type('text/dns; charset=utf-8').send(writeZoneFile(zone));
  });

  app.delete<{ Params: { zone: string } }>('/v1/zones/:zone', async (request, reply) => {
    const name = zoneParam(request.params.zone);
    try {
      await deleteZone(store, name);
    } catch (err) {
      if (err instanceof ZoneNotFoundError) throw new ApiError('zone_not_found', err.message, 'zone');
      throw err;
    }
    return reply.status(204).send();
  });
}
