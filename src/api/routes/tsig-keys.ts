// /v1/tsig-keys: TSIG keys for RFC 2136 updates: create (the secret is in the response, once), list, revoke.
// Admin only, like /v1/keys.

import type { FastifyInstance } from 'fastify';
import { createTsigKey, listTsigKeys, revokeTsigKey, type SecretBox } from '../../keys/tsig-keys.js';
import type { Store } from '../../store/store.js';
import { audit } from '../audit.js';
import { requireAdmin } from '../auth.js';

export async function tsigKeyRoutes(app: FastifyInstance, options: { store: Store; secrets?: SecretBox }): Promise<void> {
  const { store } = options;
  app.addHook('onRequest', requireAdmin(store));

  app.get('/v1/tsig-keys', async () => ({ keys: await listTsigKeys(store) }));

  app.post<{ Body: { scope: string; name?: string; algorithm?: string } }>(
    '/v1/tsig-keys',
    {
      schema: {
        body: {
          type: 'object',
          properties: { scope: { type: 'string', maxLength: 300 }, name: { type: 'string', maxLength: 255 }, algorithm: { type: 'string', maxLength: 40 } },
          required: ['scope'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const created = await createTsigKey(store, request.body, options.secrets);
      audit(request, 'tsig.create', { name: created.key.name, algorithm: created.key.algorithm, keyScope: created.key.scope });
      return reply.status(201).send({ ...created.key, secret: created.secret });
    },
  );

  app.delete<{ Params: { name: string } }>('/v1/tsig-keys/:name', { schema: { params: { type: 'object', properties: { name: { type: 'string', maxLength: 255 } } } } }, async (request) => {
    const key = await revokeTsigKey(store, request.params.name);
    audit(request, 'tsig.revoke', { name: key.name, keyScope: key.scope });
    return key;
  });
}
