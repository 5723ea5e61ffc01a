// The one place a failure becomes an HTTP response.

import type { FastifyError, FastifyInstance } from 'fastify';
import { StoreFullError, StoreUnavailableError } from '../store/store.js';
import { ApiError } from './errors.js';

/** How long a client is told to wait before trying again while the store is away (seconds). */
const STORE_RETRY_AFTER_S = 5;

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, request, reply) => {
    let apiError: ApiError;
    if (err instanceof ApiError) apiError = err;
    else if ('validation' in err && err.validation) {
      const first = err.validation[0];
      const field = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
      apiError = new ApiError('bad_request', err.message, field || undefined);
    } else if (err instanceof StoreUnavailableError) {
      // Nothing was written; DNS and reads from memory go on. The same call works once the store is back.
      void reply.header('retry-after', String(STORE_RETRY_AFTER_S));
      apiError = new ApiError('store_unavailable', `the node's store is unavailable, nothing was written; retry in ${STORE_RETRY_AFTER_S} s (${err.message})`);
    } else if (err instanceof StoreFullError) {
      void reply.header('retry-after', String(STORE_RETRY_AFTER_S));
      apiError = new ApiError('insufficient_storage', `the node's disk is full, nothing was written; writes work again once space is freed (${err.message})`);
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
