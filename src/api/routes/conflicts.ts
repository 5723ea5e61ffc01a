// /v1/conflicts: documents whose replication left losing revisions, and resolving one by keeping a revision.

import type { FastifyInstance } from 'fastify';
import { listConflicts, resolveConflict } from '../../cluster/conflicts.js';
import { CouchStore } from '../../store/couch-store.js';
import { reconcileZone } from '../../zone/zone-reconcile.js';
import { listContested, resolveContested } from '../../zone/contested.js';
import type { Store } from '../../store/store.js';
import { requireAdmin } from '../auth.js';
import { ApiError } from '../../errors.js';

export interface ConflictRoutesOptions {
  store: Store;
}

export async function conflictRoutes(app: FastifyInstance, options: ConflictRoutesOptions): Promise<void> {
  const { store } = options;
  app.addHook('onRequest', requireAdmin(store));

  app.get('/v1/conflicts', async () => {
    // The embedded store has no peers writing to it, so nothing can conflict there.
    if (!(store instanceof CouchStore)) return { conflicts: [] };
    // The store's own conflicts, and RRsets whose inline states two sides changed apart (zone/contested.ts).
    return { conflicts: [...(await listConflicts(store)), ...(await listContested(store))] };
  });

  app.post('/v1/conflicts/resolve', async (request) => {
    const body = request.body as { id?: unknown; keep?: unknown } | undefined;
    if (typeof body !== 'object' || body === null) throw new ApiError('bad_request', 'send JSON {"id": DOCUMENT_ID, "keep": REVISION}', 'body');
    if (typeof body.id !== 'string' || body.id === '') throw new ApiError('bad_request', 'id must be the conflicted document id', 'id');
    if (typeof body.keep !== 'string' || !/^\d+-[0-9a-f]+$/.test(body.keep)) throw new ApiError('bad_request', 'keep must be a revision such as "2-9b1e…" from GET /v1/conflicts', 'keep');
    if (!(store instanceof CouchStore)) throw new ApiError('not_found', `document ${body.id} has no conflicts`, 'id');
    const contested = await resolveContested(store, body.id, body.keep);
    if (contested) return contested;
    const resolved = await resolveConflict(store, body.id, body.keep);
    // The kept revision may change what a zone answers: its serial must move with it (zone-reconcile.ts).
    const doc = await store.get(body.id);
    const zone = doc?.type === 'zone' ? doc.name : doc?.type === 'rrset' ? doc.zone : undefined;
    if (typeof zone === 'string') await reconcileZone(store, zone, { force: true });
    return resolved;
  });
}
