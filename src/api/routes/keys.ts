// /v1/keys: create (the secret is in the response, once), list, revoke. Admin only.

import type { FastifyInstance } from 'fastify';
import { createKey, listKeys, revokeKey } from '../../keys/key-store.js';
import type { KeyIndex } from '../../keys/key-index.js';
import { StoreUnavailableError, type Store } from '../../store/store.js';
import { audit } from '../audit.js';
import { requireAdmin } from '../auth.js';

/** A revoke waits this long for the node's key index to see it, so the key stops working here when the call returns. */
const REVOKE_APPLIED_MS = 5_000;

export async function keyRoutes(app: FastifyInstance, options: { store: Store; keys?: KeyIndex }): Promise<void> {
  const { store, keys } = options;
  app.addHook('onRequest', requireAdmin(store));

  app.get('/v1/keys', async () => {
    try {
      return { keys: await listKeys(store) };
    } catch (err) {
      // With the store away, the keys this node holds in memory are the answer.
      if (err instanceof StoreUnavailableError && keys) return { keys: keys.list() };
      throw err;
    }
  });

  app.post<{ Body: { scope: string; name?: string; expires?: string } }>(
    '/v1/keys',
    {
      schema: {
        body: {
          type: 'object',
          properties: { scope: { type: 'string', maxLength: 300 }, name: { type: 'string', maxLength: 100 }, expires: { type: 'string', maxLength: 40 } },
          required: ['scope'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const created = await createKey(store, request.body);
      audit(request, 'key.create', { id: created.key.id, name: created.key.name, keyScope: created.key.scope, expiresAt: created.key.expiresAt });
      return reply.status(201).send({ ...created.key, secret: created.secret });
    },
  );

  app.delete<{ Params: { id: string } }>('/v1/keys/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string', maxLength: 200 } } } } }, async (request) => {
    const key = await revokeKey(store, request.params.id);
    await keys?.waitFor((index) => index.get(key.id)?.revokedAt !== undefined, REVOKE_APPLIED_MS);
    audit(request, 'key.revoke', { id: key.id, name: key.name, keyScope: key.scope });
    return key;
  });
}
