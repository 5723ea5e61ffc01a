// Turns the zone and key layer's errors into API errors, naming the field at fault. Shared by the REST, PowerDNS
// and ACME routes so one failure reads the same everywhere.

import { ConflictError } from '../store/store.js';
import { RRsetError, ZoneValidationError } from '../zone/validate.js';
import { RevisionMismatchError, ZoneNotFoundError } from '../zone/zone-writer.js';
import { ChallengeInputError } from '../acme/challenges.js';
import { ApiError } from './errors.js';

export function toApiError(err: unknown, recordField = 'records'): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof ZoneNotFoundError) return new ApiError('zone_not_found', err.message, 'zone');
  if (err instanceof RevisionMismatchError) return new ApiError('revision_mismatch', err.message, 'revision');
  if (err instanceof ConflictError) return new ApiError('conflict', `${err.message}; retry`, undefined);
  if (err instanceof RRsetError) {
    const field = err.record !== undefined ? `${recordField}.${err.record}` : /^TTL/.test(err.message) ? 'ttl' : /^(name|zone) /.test(err.message) ? 'name' : /type/.test(err.message) ? 'type' : recordField;
    return new ApiError('invalid_rrset', err.message, field);
  }
  if (err instanceof ZoneValidationError) return new ApiError('invalid_zone', err.message, recordField);
  if (err instanceof ChallengeInputError) return new ApiError('invalid_challenge', err.message, err.field);
  return err;
}
