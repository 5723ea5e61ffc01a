// Every error the HTTP API can return, in one place: a code, a status, and the field at fault when there is one.
// The body is always {"error":{"code","message","field"}}.

export const ErrorCodes = {
  bad_request: 400,
  invalid_zone_file: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  zone_not_found: 404,
  zone_exists: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_zone: 422,
  internal: 500,
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
