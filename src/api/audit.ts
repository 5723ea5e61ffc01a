// One audit line per accepted write: who (key name and scope), what, where. Searchable by "audit":true.

import type { FastifyRequest } from 'fastify';

export function audit(request: FastifyRequest, action: string, details: Record<string, unknown>): void {
  const p = request.principal;
  request.log.info({ audit: true, key: p?.name ?? null, keyId: p?.keyId ?? null, scope: p?.scope ?? null, client: request.ip, action, ...details }, 'audit');
}
