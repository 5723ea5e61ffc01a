// Names in requests. src/proto parses them and knows nothing of requests, so its NameError has no field: this is
// where the API gives it one, the field the name was read from.

import { ApiError, type ErrorCode } from '../errors.js';
import { NameError } from '../proto/names.js';

/** `parse` reads the name the client sent in `field`; a bad one is a `code` error naming that field, `label` first. */
export function nameParam<T>(field: string, label: string, parse: () => T, code: ErrorCode = 'bad_request'): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof NameError) throw new ApiError(code, `${label}: ${err.message}`, field);
    throw err;
  }
}
