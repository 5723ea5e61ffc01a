// /v1/pools: named sets of edges and their answer policy; /v1/pools/:pool/explain and /v1/route say why a client
// gets the edges it gets.

import type { FastifyInstance } from 'fastify';
import { Type } from '../../proto/constants.js';
import { POOL_KEYS, rejectUnknown, EDGE_NAME, isPoolDoc, normalizePool, poolDocId, poolFields, type PoolDoc, type PoolFields } from '../../geo/edge-docs.js';
import { clientSubnetFromText, explain } from '../../geo/explain.js';
import { lookup } from '../../zone/lookup.js';
import { nameKey } from '../../proto/names.js';
import { requireAdmin } from '../auth.js';
import { nameParam } from '../name-param.js';
import { ApiError } from '../../errors.js';
import type { Catalog } from '../../zone/catalog.js';
import { bodyObject, stableJson, waitForGeo, type GeoRoutesOptions } from './edges.js';

function poolParam(raw: string): string {
  if (!EDGE_NAME.test(raw)) throw new ApiError('bad_request', `pool name "${raw}" must be 1-63 of a-z, 0-9, "-", "_"`, 'pool');
  return raw;
}

function clientParam(text: string | undefined, field = 'client'): ReturnType<typeof clientSubnetFromText> | undefined {
  if (text === undefined || text === '') return undefined;
  return clientSubnetFromText(text, field);
}

function typeParam(text: string | undefined): number {
  const t = (text ?? 'A').toUpperCase();
  if (t !== 'A' && t !== 'AAAA') throw new ApiError('bad_request', `type must be A or AAAA, not "${text}"`, 'type');
  return t === 'A' ? Type.A : Type.AAAA;
}

export async function poolRoutes(app: FastifyInstance, options: GeoRoutesOptions & { catalog: Catalog }): Promise<void> {
  const { store, geo, catalog } = options;
  app.addHook('onRequest', requireAdmin(store));

  function checkMembers(fields: PoolFields): void {
    fields.members.forEach((m, i) => {
      if (!geo.state.edges.has(m)) throw new ApiError('bad_request', `no edge named ${m}; add it first (edgedns edge add)`, `members.${i}`);
    });
  }

  async function save(fields: PoolFields, mode: 'create' | 'replace'): Promise<{ created: boolean; served: boolean }> {
    checkMembers(fields);
    const id = poolDocId(fields.name);
    const existing = await store.get(id);
    if (existing && mode === 'create') throw new ApiError('pool_exists', `pool ${fields.name} exists; use PUT or PATCH to change it`, 'name');
    const doc: PoolDoc = { _id: id, ...(existing?._rev ? { _rev: existing._rev } : {}), type: 'pool', ...fields, updatedAt: new Date().toISOString() };
    await store.put(doc);
    const served = await waitForGeo(geo, () => stableJson(geo.state.pools.get(fields.name)) === stableJson(fields));
    return { created: !existing, served };
  }

  app.get('/v1/pools', async () => ({ pools: [...geo.state.pools.values()].sort((a, b) => a.name.localeCompare(b.name)) }));

  app.get<{ Params: { pool: string } }>('/v1/pools/:pool', async (request) => {
    const name = poolParam(request.params.pool);
    const pool = geo.state.pools.get(name);
    if (!pool) throw new ApiError('pool_not_found', `pool ${name} does not exist`, 'pool');
    return pool;
  });

  app.post('/v1/pools', async (request, reply) => {
    const body = bodyObject(request.body);
    rejectUnknown(body, POOL_KEYS);
    const fields = normalizePool(body);
    const saved = await save(fields, 'create');
    return reply.status(201).send({ ...fields, served: saved.served });
  });

  app.put<{ Params: { pool: string } }>('/v1/pools/:pool', async (request, reply) => {
    const name = poolParam(request.params.pool);
    const body = bodyObject(request.body);
    if (body.name !== undefined && body.name !== name) throw new ApiError('bad_request', `body names pool ${String(body.name)} but the URL ${name}`, 'name');
    rejectUnknown(body, POOL_KEYS);
    const fields = normalizePool({ ...body, name });
    const saved = await save(fields, 'replace');
    return reply.status(saved.created ? 201 : 200).send({ ...fields, served: saved.served });
  });

  app.patch<{ Params: { pool: string } }>('/v1/pools/:pool', async (request) => {
    const name = poolParam(request.params.pool);
    const body = bodyObject(request.body);
    if (body.name !== undefined && body.name !== name) throw new ApiError('bad_request', 'a pool cannot be renamed; add a new one', 'name');
    const doc = await store.get(poolDocId(name));
    if (!doc || !isPoolDoc(doc)) throw new ApiError('pool_not_found', `pool ${name} does not exist`, 'pool');
    rejectUnknown(body, POOL_KEYS);
    const fields = normalizePool(body, poolFields(doc));
    const saved = await save(fields, 'replace');
    return { ...fields, served: saved.served };
  });

  app.delete<{ Params: { pool: string } }>('/v1/pools/:pool', async (request, reply) => {
    const name = poolParam(request.params.pool);
    const doc = await store.get(poolDocId(name));
    if (!doc || !doc._rev) throw new ApiError('pool_not_found', `pool ${name} does not exist`, 'pool');
    await store.remove(doc._id, doc._rev);
    await waitForGeo(geo, () => !geo.state.pools.has(name));
    return reply.status(204).send();
  });

  app.get<{ Params: { pool: string }; Querystring: { client?: string; resolver?: string; type?: string } }>('/v1/pools/:pool/explain', async (request) => {
    const name = poolParam(request.params.pool);
    const view = geo.state.snapshot.pools.get(name);
    if (!view) throw new ApiError('pool_not_found', `pool ${name} does not exist`, 'pool');
    const ecs = clientParam(request.query.client);
    clientParam(request.query.resolver, 'resolver');
    return explain(geo.answerer, name, typeParam(request.query.type), view.longestCidrPin, ecs, request.query.resolver);
  });

  // GET /v1/route?name=www.example.com&type=A&client=81.2.69.160: what this node answers that client, and why.
  app.get<{ Querystring: { name?: string; type?: string; client?: string; resolver?: string } }>('/v1/route', async (request) => {
    const { query } = request;
    if (!query.name) throw new ApiError('bad_request', 'name is required (the name a visitor asks for)', 'name');
    const raw = query.name;
    const qname = nameParam('name', `name "${raw}"`, () => nameKey(raw.endsWith('.') ? raw : raw + '.'));
    const qtype = typeParam(query.type);
    const ecs = clientParam(query.client);
    clientParam(query.resolver, 'resolver');
    const zone = catalog.find(qname);
    if (!zone) throw new ApiError('zone_not_found', `no served zone holds ${qname}`, 'name');
    const result = lookup(zone, qname, qtype);
    const entry = result.answer.find((e) => e.rrset.pool !== undefined);
    if (!entry || entry.rrset.pool === undefined) {
      throw new ApiError('not_found', `${qname} ${qtype === Type.A ? 'A' : 'AAAA'} is not a dynamic (pool) RRset`, 'name');
    }
    const pool = entry.rrset.pool;
    const view = geo.state.snapshot.pools.get(pool);
    const explained = explain(geo.answerer, pool, qtype, view?.longestCidrPin ?? 0, ecs, query.resolver);
    const cnames = result.answer.filter((e) => e.rrset.pool === undefined).map((e) => e.owner);
    return { name: qname, owner: entry.owner, ...(cnames.length > 0 ? { via: cnames } : {}), ttl: Math.min(entry.rrset.ttl, explained.decision.ttl), ...explained };
  });
}
