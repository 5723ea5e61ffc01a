// Counts HTTP requests by route pattern (not raw URL, which would grow labels without bound) and status.

import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';

export function httpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'edgedns_http_requests_total',
    help: 'HTTP API requests, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    requests.labels(request.method, request.routeOptions.url ?? 'unmatched', String(reply.statusCode)).inc();
  });
}
