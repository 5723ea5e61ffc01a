// The one place a failure becomes an HTTP response. Errors carry their code, status and field (src/errors.ts);
// fastify's own (schema validation, body limits, content types) are read by their status and validation details.
// The PowerDNS routes use the same mapping with PowerDNS's body shape (routes/pdns.ts).

import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, CodedError, type ErrorCode } from '../errors.js';

/** Any thrown value as a coded error; what is not one is a bug: logged, and answered 500 without its details. */
export function codedError(err: unknown, request: FastifyRequest): CodedError {
  if (err instanceof CodedError && err.status < 500) return err;
  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (err instanceof Error && typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
    return new ApiError(code, err.message, fastifyError.validation ? validationField(fastifyError.validation) : undefined);
  }
  request.log.error({ err }, 'internal error in API request');
  return new ApiError('internal', 'internal error; see the node log');
}

/** The field a schema check failed on: "records.2" for /records/2, or the missing property. */
function validationField(validation: NonNullable<FastifyError['validation']>): string | undefined {
  const first = validation[0];
  if (first?.instancePath) return first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return (first?.params as { missingProperty?: string } | undefined)?.missingProperty || undefined;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const coded = codedError(err, request);
    void reply.status(coded.status).send(coded.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new ApiError('not_found', `no route ${request.method} ${request.url}`);
    void reply.status(err.status).send(err.toJSON());
  });
}
