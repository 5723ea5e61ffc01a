// One audit line per accepted write through the API: who (key name and scope), what, where (keys/audit-line.ts).

import type { FastifyRequest } from 'fastify';
import { auditLine } from '../keys/audit-line.js';

export function audit(request: FastifyRequest, action: string, details: Record<string, unknown>): void {
  const p = request.principal;
  auditLine(request.log, { key: p?.name ?? null, keyId: p?.keyId ?? null, scope: p?.scope ?? null, client: request.ip }, action, details);
}
