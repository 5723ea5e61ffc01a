// Every error the HTTP API can return, in one place: a code, a status, and the field at fault when there is one.
// The body is always {"error":{"code","message","field"}}.

export const ErrorCodes = {
  bad_request: 400,
  invalid_zone_file: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  zone_not_found: 404,
  rrset_not_found: 404,
  key_not_found: 404,
  challenge_not_found: 404,
  zone_exists: 409,
  edge_not_found: 404,
  pool_not_found: 404,
  edge_exists: 409,
  pool_exists: 409,
  edge_in_use: 409,
  conflict: 409,
  revision_mismatch: 409,
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
  missing_blobs: 409,
  too_many_files: 422,
  invalid_rules: 422,
  internal: 500,
  store_unavailable: 503,
  insufficient_storage: 507,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.status = ErrorCodes[code];
  }

  toJSON(): { error: { code: string; message: string; field?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}
