// /v1/edges: the servers visitors are sent to. GET lists them with their place, health and every observer's vote;
// POST creates, PUT creates or replaces, PATCH changes some fields, DELETE removes (not while a pool uses it).

import type { FastifyInstance } from 'fastify';
import { EDGE_KEYS, rejectUnknown, edgeDocId, EDGE_NAME, edgeFields, isEdgeDoc, normalizeEdge, type EdgeDoc, type EdgeFields } from '../../geo/edge-docs.js';
import type { GeoRuntime } from '../../geo/geo-runtime.js';
import type { EdgeView } from '../../geo/snapshot.js';
import type { Store } from '../../store/store.js';
import { requireAdmin } from '../auth.js';
import { ApiError } from '../../errors.js';
import { waitApplied } from '../../store/wait-applied.js';

export interface GeoRoutesOptions {
  store: Store;
  geo: GeoRuntime;
}

/** How long a write waits for this node's geo state to hold it, so "saved" means "answering with it". */
const APPLY_WAIT_MS = 2000;

export function waitForGeo(geo: GeoRuntime, applied: () => boolean): Promise<boolean> {
  return waitApplied((listener) => geo.sync.onApplied(listener), applied, APPLY_WAIT_MS);
}

/** JSON with keys sorted, to compare what was written with what the store gave back. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('bad_request', 'send a JSON object as the body', 'body');
  return body as Record<string, unknown>;
}

function nameParam(raw: string, what: 'edge' | 'pool'): string {
  if (!EDGE_NAME.test(raw)) throw new ApiError('bad_request', `${what} name "${raw}" must be 1-63 of a-z, 0-9, "-", "_"`, what);
  return raw;
}

export function edgeJson(fields: EdgeFields, view: EdgeView | undefined): Record<string, unknown> {
  return {
    ...fields,
    location: view?.location ?? null,
    up: view?.up ?? true,
    ownRttMs: view?.ownRttMs ?? null,
    penaltyMs: view?.penaltyMs ?? null,
    votes: view?.votes ?? [],
  };
}

export async function edgeRoutes(app: FastifyInstance, options: GeoRoutesOptions): Promise<void> {
  const { store, geo } = options;
  app.addHook('onRequest', requireAdmin(store));

  const same = (name: string, fields: EdgeFields): (() => boolean) => () => stableJson(geo.state.edges.get(name)) === stableJson(fields);

  async function save(fields: EdgeFields, mode: 'create' | 'replace'): Promise<{ created: boolean; served: boolean }> {
    const id = edgeDocId(fields.name);
    const existing = await store.get(id);
    if (existing && mode === 'create') throw new ApiError('edge_exists', `edge ${fields.name} exists; use PUT or PATCH to change it`, 'name');
    const doc: EdgeDoc = { _id: id, ...(existing?._rev ? { _rev: existing._rev } : {}), type: 'edge', ...fields, updatedAt: new Date().toISOString() };
    await store.put(doc);
    return { created: !existing, served: await waitForGeo(geo, same(fields.name, fields)) };
  }

  app.get('/v1/edges', async () => {
    const snapshot = geo.state.snapshot;
    const edges = [...geo.state.edges.values()].sort((a, b) => a.name.localeCompare(b.name));
    return { edges: edges.map((e) => edgeJson(e, snapshot.edges.get(e.name))) };
  });

  app.get<{ Params: { edge: string } }>('/v1/edges/:edge', async (request) => {
    const name = nameParam(request.params.edge, 'edge');
    const fields = geo.state.edges.get(name);
    if (!fields) throw new ApiError('edge_not_found', `edge ${name} does not exist`, 'edge');
    return edgeJson(fields, geo.state.snapshot.edges.get(name));
  });

  app.post('/v1/edges', async (request, reply) => {
    const body = bodyObject(request.body);
    rejectUnknown(body, EDGE_KEYS);
    const fields = normalizeEdge(body);
    const saved = await save(fields, 'create');
    return reply.status(201).send({ ...fields, served: saved.served });
  });

  app.put<{ Params: { edge: string } }>('/v1/edges/:edge', async (request, reply) => {
    const name = nameParam(request.params.edge, 'edge');
    const body = bodyObject(request.body);
    if (body.name !== undefined && body.name !== name) throw new ApiError('bad_request', `body names edge ${String(body.name)} but the URL ${name}`, 'name');
    rejectUnknown(body, EDGE_KEYS);
    const fields = normalizeEdge({ ...body, name });
    const saved = await save(fields, 'replace');
    return reply.status(saved.created ? 201 : 200).send({ ...fields, served: saved.served });
  });

  app.patch<{ Params: { edge: string } }>('/v1/edges/:edge', async (request) => {
    const name = nameParam(request.params.edge, 'edge');
    const body = bodyObject(request.body);
    if (body.name !== undefined && body.name !== name) throw new ApiError('bad_request', 'an edge cannot be renamed; add a new one', 'name');
    const doc = await store.get(edgeDocId(name));
    if (!doc || !isEdgeDoc(doc)) throw new ApiError('edge_not_found', `edge ${name} does not exist`, 'edge');
    rejectUnknown(body, EDGE_KEYS);
    // null clears an optional field (coordinates back to GeoIP, country)
    const base: Record<string, unknown> = { ...edgeFields(doc) };
    for (const [k, v] of Object.entries(body)) {
      if (v === null) delete base[k];
      else base[k] = v;
    }
    const fields = normalizeEdge(base);
    const saved = await save(fields, 'replace');
    return { ...fields, served: saved.served };
  });

  app.delete<{ Params: { edge: string } }>('/v1/edges/:edge', async (request, reply) => {
    const name = nameParam(request.params.edge, 'edge');
    const doc = await store.get(edgeDocId(name));
    if (!doc || !doc._rev) throw new ApiError('edge_not_found', `edge ${name} does not exist`, 'edge');
    const users = [...geo.state.pools.values()].filter((p) => p.members.includes(name)).map((p) => p.name);
    if (users.length > 0) throw new ApiError('edge_in_use', `edge ${name} is a member of pool ${users.join(', ')}; remove it there first`, 'edge');
    await store.remove(doc._id, doc._rev);
    await waitForGeo(geo, () => !geo.state.edges.has(name));
    return reply.status(204).send();
  });
}
