// Counts and logs HTTP requests; counted by route pattern (not raw URL, which would grow labels without bound).
// The URL logged has credentials in its query string replaced (url-secrets.ts). Requests Node itself cuts off
// (header or request deadline passed, malformed or oversized headers) never reach a route: counted by their code.

import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { redactUrl } from './url-secrets.js';

export function httpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'edgedns_http_requests_total',
    help: 'HTTP API requests, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const clientErrors = new Counter({
    name: 'edgedns_api_client_errors_total',
    help: 'API connections Node closed before a route saw a request, by Node error code (ERR_HTTP_REQUEST_TIMEOUT: a header or request deadline passed; HPE_*: malformed or oversized headers)',
    labelNames: ['code'],
    registers: [registry],
  });
  app.server.on('clientError', (err: NodeJS.ErrnoException) => clientErrors.labels(err.code ?? 'unknown').inc());
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.labels(request.method, route, String(reply.statusCode)).inc();
    // one line per request; scrapes and health probes are frequent and uninteresting, so they log at debug
    const quiet = route === '/metrics' || route === '/healthz';
    request.log[quiet ? 'debug' : 'info']({ method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'http request');
  });
}
