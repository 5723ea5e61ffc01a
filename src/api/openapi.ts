// The API described for people and tools: /v1/openapi.json (OpenAPI 3.1, from the routes' own JSON schemas plus
// a summary per route) and /v1/docs, a small page that lists the operations.

import type { FastifyInstance, RouteOptions } from 'fastify';
import { ErrorCodes } from '../errors.js';

interface Operation {
  method: string;
  path: string;
  schema?: RouteOptions['schema'];
}

const SUMMARIES: Record<string, string> = {
  'GET /v1/zones': 'List zones',
  'POST /v1/zones': 'Import a zone file (body: text/dns)',
  'GET /v1/zones/{zone}': 'A zone as JSON',
  'DELETE /v1/zones/{zone}': 'Delete a zone',
  'GET /v1/zones/{zone}/export': 'A zone as a BIND zone file',
  'GET /v1/zones/{zone}/rrsets': 'List RRsets with their revisions',
  'GET /v1/zones/{zone}/rrsets/{name}/{type}': 'One RRset',
  'PUT /v1/zones/{zone}/rrsets/{name}/{type}': 'Replace one RRset (optionally only at a revision)',
  'DELETE /v1/zones/{zone}/rrsets/{name}/{type}': 'Delete one RRset',
  'GET /v1/keys': 'List API keys',
  'POST /v1/keys': 'Create an API key (the secret is returned once)',
  'DELETE /v1/keys/{id}': 'Revoke an API key',
  'GET /v1/tsig-keys': 'List TSIG keys (RFC 2136 updates)',
  'POST /v1/tsig-keys': 'Create a TSIG key (the secret is returned once)',
  'DELETE /v1/tsig-keys/{name}': 'Revoke a TSIG key',
  'GET /v1/acme/challenges': 'Challenge values being served',
  'POST /v1/acme/challenges': 'Add one challenge value',
  'DELETE /v1/acme/challenges': 'Remove one challenge value',
  'POST /v1/acme/httpreq/present': "lego httpreq: add a value",
  'POST /v1/acme/httpreq/cleanup': "lego httpreq: remove a value",
};

export async function openapiRoutes(app: FastifyInstance): Promise<void> {
  const operations: Operation[] = [];
  // Registered first and without encapsulation (skip-override below), so this hook sees every route of the app.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) if (method !== 'HEAD') operations.push({ method, path: route.url, schema: route.schema });
  });

  const document = (): Record<string, unknown> => {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of operations) {
      const path = op.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const key = `${op.method} ${path}`;
      const schema = (op.schema ?? {}) as { body?: unknown; querystring?: unknown };
      const params = [...path.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      (paths[path] ??= {})[op.method.toLowerCase()] = {
        summary: SUMMARIES[key] ?? key,
        parameters: params,
        ...(schema.body ? { requestBody: { content: { 'application/json': { schema: schema.body } } } } : {}),
        responses: { default: { description: 'JSON; errors are {"error":{"code","message","field"}}' } },
        security: [{ bearer: [] }, { apiKey: [] }],
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: 'edgedns API', version: '1' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
        schemas: { ErrorCode: { type: 'string', enum: Object.keys(ErrorCodes) } },
      },
      paths,
    };
  };

  app.get('/v1/openapi.json', async () => document());
  app.get('/v1/docs', async (_request, reply) => {
    const rows = operations
      .filter((o) => !o.path.startsWith('/v1/openapi') && o.path !== '/v1/docs')
      .map((o) => {
        const path = o.path.replace(/:([A-Za-z_]+)/g, '{$1}');
        const summary = SUMMARIES[`${o.method} ${path}`] ?? '';
        return `<tr><td>${o.method}</td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(summary)}</td></tr>`;
      })
      .join('\n');
    return reply
      .type('text/html; charset=utf-8')
      .send(`<!doctype html><meta charset="utf-8"><title>edgedns API</title><h1>edgedns API</h1><p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a>. Send a key as <code>Authorization: Bearer KEY</code> or <code>X-API-Key: KEY</code>.</p><table border="1" cellpadding="4"><tr><th>method</th><th>path</th><th>what</th></tr>\n${rows}</table>`);
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

// Like fastify-plugin: the hook lands on the root instance, not a child context.
(openapiRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
