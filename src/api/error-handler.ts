// The one place a failure becomes an HTTP response. Errors carry their code, status and field (src/errors.ts);
// fastify's own (schema validation, body limits, content types) are read by their status and validation details.
// The PowerDNS routes use the same mapping with PowerDNS's body shape (routes/pdns.ts). Every error answered is
// counted by its code, so each limit (payload_too_large, too_many_requests, key_in_query, …) has its metric.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { ApiError, CodedError, type ErrorCode } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    apiErrors?: Counter<'code'>;
  }
}

/** Any thrown value as a coded error; what is not one is a bug: logged, and answered 500 without its details. */
export function codedError(err: unknown, request: FastifyRequest): CodedError {
  const coded = toCoded(err, request);
  request.server.apiErrors?.labels(coded.code).inc();
  return coded;
}

function toCoded(err: unknown, request: FastifyRequest): CodedError {
  if (err instanceof CodedError && err.status < 500) return err;
  // The server's own trouble that it knows and says (the store away, the disk full, a CA that failed an order).
  if (err instanceof CodedError && err.code !== 'internal') {
    request.log.warn({ err }, `API request answered ${err.status} ${err.code}`);
    return err;
  }
  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (err instanceof Error && typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
    return new ApiError(code, err.message, fastifyFieldOf(fastifyError, status));
  }
  request.log.error({ err }, 'internal error in API request');
  return new ApiError('internal', 'internal error; see the node log');
}

/**
 * Answers a failure: its status, Retry-After when the error says when to try again (the store away or full), and
 * the body in the routes' shape (ours by default; the PowerDNS routes pass theirs).
 */
export function answerError(err: unknown, request: FastifyRequest, reply: FastifyReply, body: (coded: CodedError) => unknown = (coded) => coded.toJSON()): void {
  const coded = codedError(err, request);
  if (coded.retryAfterS !== undefined) void reply.header('retry-after', String(coded.retryAfterS));
  void reply.status(coded.status).send(body(coded));
}

/**
 * The field a fastify error concerns: the property a schema check failed on, the body (too large, not parseable as
 * its content type says, or not the shape the schema wants as a whole), or the Content-Type header it cannot take.
 */
function fastifyFieldOf(err: Partial<FastifyError>, status: number): string | undefined {
  if (err.validation) return validationField(err.validation) ?? err.validationContext;
  if (status === 415) return 'content-type';
  if (status === 413 || err.code?.startsWith('FST_ERR_CTP_')) return 'body';
  return undefined;
}

/** The field a schema check failed on: "records.2" for /records/2, or the missing property. */
function validationField(validation: NonNullable<FastifyError['validation']>): string | undefined {
  const first = validation[0];
  if (first?.instancePath) return first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return (first?.params as { missingProperty?: string } | undefined)?.missingProperty || undefined;
}

export function installErrorHandler(app: FastifyInstance, registry: Registry): void {
  app.decorate(
    'apiErrors',
    new Counter({
      name: 'edgedns_api_errors_total',
      help: 'API requests answered with an error, by its code (docs/api.md); limits show here: payload_too_large, length_required, key_in_query, too_many_requests, ...',
      labelNames: ['code'],
      registers: [registry],
    }),
  );
  app.setErrorHandler((err, request, reply) => answerError(err, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const err = new ApiError('not_found', `no route ${request.method} ${request.url}`);
    request.server.apiErrors?.labels(err.code).inc();
    void reply.status(err.status).send(err.toJSON());
  });
  // A request refused before its body was read (no key, too large, a bad path): close the connection after the
  // answer, rather than let Node read and discard what is left of the body to keep the connection open.
  app.addHook('onSend', async (request, reply) => {
    if (reply.statusCode >= 400 && request.raw.complete === false) void reply.header('connection', 'close');
  });
}
