// /v1/keys: create (the secret is in the response, once), list, revoke. Admin only.

import type { FastifyInstance } from 'fastify';
import { createKey, listKeys, revokeKey } from '../../keys/key-store.js';
import type { Store } from '../../store/store.js';
import { audit } from '../audit.js';
import { requireAdmin } from '../auth.js';

export async function keyRoutes(app: FastifyInstance, options: { store: Store }): Promise<void> {
  const { store } = options;
  app.addHook('onRequest', requireAdmin(store));

  app.get('/v1/keys', async () => ({ keys: await listKeys(store) }));

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
    audit(request, 'key.revoke', { id: key.id, name: key.name, keyScope: key.scope });
    return key;
  });
}
