// The one place a failure becomes an HTTP response.

import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, request, reply) => {
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if ('validation' in err && err.validation) {
      const first = err.validation[0];
      const field = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
      apiError = new ApiError('bad_request', err.message, field || undefined);
    } else if ('statusCode' in err && err.statusCode === 413) apiError = new ApiError('payload_too_large', err.message);
    else if ('statusCode' in err && err.statusCode === 415) apiError = new ApiError('unsupported_media_type', err.message);
    else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) apiError = new ApiError('bad_request', err.message);
    else {
      request.log.error({ err }, 'internal error in API request');
      apiError = new ApiError('internal', 'internal error; see the node log');
    }
    void reply.status(apiError.status).send(apiError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new ApiError('not_found', `no route ${request.method} ${request.url}`);
    void reply.status(err.status).send(err.toJSON());
  });
}
