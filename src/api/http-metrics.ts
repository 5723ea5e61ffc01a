// Counts and logs HTTP requests; counted by route pattern (not raw URL, which would grow labels without bound).

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
    const route = request.routeOptions.url ?? 'unmatched';
    requests.labels(request.method, route, String(reply.statusCode)).inc();
    // one line per request; scrapes and health probes are frequent and uninteresting, so they log at debug
    const quiet = route === '/metrics' || route === '/healthz';
    request.log[quiet ? 'debug' : 'info']({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'http request');
  });
}
