// Every error a client can be told about, in one place (fastify's lib/errors.js, in our form): each has a stable
// code, the HTTP status it is answered with, and the request field at fault when there is one. The field is set by
// the code that found the fault (a validator knows which input it was reading), never worked out from the message.
// The API's error handler (src/api/error-handler.ts) is the one place these become responses; docs/api.md lists
// every code (test/api/errors-docs.test.ts checks both ways).
//
// This module imports nothing, so every layer can throw these: it sits at the bottom of the layer map, beside
// src/proto. A module whose callers catch one of its errors re-exports it (store.ts: ConflictError), so they import
// it with the functions. src/proto imports nothing outside itself: its NameError, RdataError and TokenizeError are
// wrapped by the callers that know which field they were reading (zone/validate.ts, api/name-param.ts).

export const ErrorCodes = {
  bad_request: 400,
  key_in_query: 400,
  invalid_zone_file: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  zone_not_found: 404,
  rrset_not_found: 404,
  key_not_found: 404,
  challenge_not_found: 404,
  zone_exists: 409,
  tsig_key_exists: 409,
  edge_not_found: 404,
  pool_not_found: 404,
  edge_exists: 409,
  pool_exists: 409,
  edge_in_use: 409,
  conflict: 409,
  revision_mismatch: 409,
  too_many_values: 409,
  length_required: 411,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_zone: 422,
  invalid_rrset: 422,
  invalid_challenge: 422,
  too_many_requests: 429,
  site_not_found: 404,
  deployment_not_found: 404,
  invalid_path: 400,
  hash_mismatch: 422,
  size_mismatch: 422,
  missing_blobs: 409,
  too_many_files: 422,
  invalid_rules: 422,
  invalid_certificate: 422,
  not_orderable: 422,
  lease_held: 409,
  secrets_unavailable: 409,
  order_failed: 500,
  not_supported: 422,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** The API's error body: {"error":{"code","message","field"}}. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export class CodedError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
    this.status = ErrorCodes[code];
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

/** What the HTTP layer finds itself: authentication, scopes, route parameters, missing resources. */
export class ApiError extends CodedError {}

// ---- store ----

/** The document changed since the revision the write was based on (or exists, for a create). */
export class ConflictError extends CodedError {
  constructor(readonly id: string) {
    super('conflict', `document ${id} was changed by someone else (revision conflict); retry`);
  }
}

export class NotFoundError extends CodedError {
  constructor(readonly id: string) {
    super('not_found', `document ${id} does not exist`);
  }
}

// ---- zones ----

export interface ZoneProblem {
  /** Owner name (key) the problem is at. */
  name: string;
  /** Type of the RRset concerned, or "" when it is about the name as a whole. */
  type: string;
  message: string;
}

/** The message lists this many; `problems` has them all. */
const SHOWN_PROBLEMS = 10;

/** A zone that breaks a whole-zone rule. `source` (a file name) starts the message when the zone came from one. */
export class ZoneValidationError extends CodedError {
  constructor(
    readonly zone: string,
    readonly problems: ZoneProblem[],
    field?: string,
    source?: string,
  ) {
    const list = problems.slice(0, SHOWN_PROBLEMS).map((p) => `${p.name}${p.type ? ' ' + p.type : ''}: ${p.message}`);
    const more = problems.length > SHOWN_PROBLEMS ? `; and ${problems.length - SHOWN_PROBLEMS} more` : '';
    super('invalid_zone', `${source ? source + ': ' : ''}zone ${zone} is not valid: ${list.join('; ')}${more}`, field);
  }
}

/** A single RRset (from the API) that cannot be stored; `field` is the part of the request at fault. */
export class RRsetError extends CodedError {
  constructor(message: string, field: string) {
    super('invalid_rrset', message, field);
  }
}

/** "example.zone:12: ", "line 12: ", "example.zone: " or nothing. */
function where(file: string | undefined, line: number | undefined): string {
  if (file !== undefined) return line === undefined ? `${file}: ` : `${file}:${line}: `;
  return line === undefined ? '' : `line ${line}: `;
}

export class ZoneFileError extends CodedError {
  constructor(
    readonly file: string | undefined,
    readonly line: number | undefined,
    readonly reason: string,
    field?: string,
  ) {
    super('invalid_zone_file', `${where(file, line)}${reason}`, field);
  }
}

export class ZoneExistsError extends CodedError {
  constructor(readonly zone: string) {
    super('zone_exists', `zone ${zone} already exists; use --replace (API: ?replace=true) to overwrite it`, 'zone');
  }
}

export class ZoneNotFoundError extends CodedError {
  constructor(readonly zone: string) {
    super('zone_not_found', `zone ${zone} does not exist`, 'zone');
  }
}

export class RevisionMismatchError extends CodedError {
  constructor(
    readonly owner: string,
    readonly type: string,
    readonly current: string | null,
  ) {
    super('revision_mismatch', `${owner} ${type} has changed since the revision you sent (now ${current ?? 'absent'}); read it again and retry`, 'revision');
  }
}

// ---- keys ----

export class ScopeError extends CodedError {
  constructor(message: string) {
    super('bad_request', message, 'scope');
  }
}

export class KeyInputError extends CodedError {
  constructor(message: string, field: string) {
    super('bad_request', message, field);
  }
}

export class TsigKeyExistsError extends CodedError {
  constructor(readonly keyName: string) {
    super('tsig_key_exists', `a TSIG key named ${keyName} exists; revoked keys keep their name`, 'name');
  }
}

export class KeyNotFoundError extends CodedError {
  constructor(readonly id: string) {
    super('key_not_found', `no key with id ${id}`, 'id');
  }
}

// ---- ACME ----

export class ChallengeInputError extends CodedError {
  constructor(message: string, field: string) {
    super('invalid_challenge', message, field);
  }
}

/** A name that holds as many challenge values as it may: the client removes one, or waits for one to expire. */
export class ChallengeLimitError extends CodedError {
  constructor(
    readonly owner: string,
    readonly limit: number,
    /** When the first of the values there expires (ISO time), when one has an expiry. */
    readonly soonest?: string,
  ) {
    super(
      'too_many_values',
      `${owner} already holds ${limit} challenge values, the most one name may hold; remove one that is done with${soonest ? `, or retry after ${soonest} when the oldest expires` : ''}`,
      'value',
    );
  }
}

// ---- geo ----

/** An edge or pool field that is missing, unknown or out of range. */
export class InvalidFieldError extends CodedError {
  constructor(field: string, message: string) {
    super('bad_request', message, field);
  }
}

/** A client address or network given to explain a selection (`client`, `resolver`). */
export class ClientParamError extends CodedError {
  constructor(message: string, field: string) {
    super('bad_request', message, field);
  }
}

// ---- cluster ----

export class UnknownRevisionError extends CodedError {
  constructor(
    readonly id: string,
    readonly rev: string,
  ) {
    super('conflict', `document ${id} has no current revision ${rev} (list the conflicts again: it may have been resolved)`, 'keep');
  }
}

export class NoSuchDocumentError extends CodedError {
  constructor(readonly id: string) {
    super('not_found', `document ${id} does not exist`, 'id');
  }
}

// ---- pages ----

export class PathError extends CodedError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super('invalid_path', `path ${JSON.stringify(path)}: ${reason}`);
  }
}

export class RulesError extends CodedError {
  constructor(
    readonly file: '_headers' | '_redirects',
    readonly line: number,
    reason: string,
  ) {
    super('invalid_rules', `${file} line ${line}: ${reason}`);
  }
}

/** A deploy that cannot go ahead. missing_blobs also lists the hashes, so a client uploads exactly those. */
export class PagesError extends CodedError {
  constructor(
    code: ErrorCode,
    message: string,
    field?: string,
    /** For missing_blobs: the hashes the store lacks. */
    readonly missing?: string[],
  ) {
    super(code, message, field);
  }

  override toJSON(): ErrorBody & { missing?: string[] } {
    return { ...super.toJSON(), ...(this.missing ? { missing: this.missing } : {}) };
  }
}

/** A certificate or key that cannot be served for the name it is given for (src/tls/cert-docs.ts). */
export class CertificateError extends CodedError {
  constructor(message: string, field: string) {
    super('invalid_certificate', message, field);
  }
}

/** This node cannot seal or open secrets: no key file, or not the cluster's key (src/secrets/cluster-secrets.ts). */
export class SecretsUnavailableError extends CodedError {
  constructor(message: string) {
    super('secrets_unavailable', message);
  }
}
