// API keys do not belong in URLs: a URL is written to access logs, proxy logs, browser and shell histories and
// Referer headers, where a header is not. A request carrying a key in its query string is refused (and the key
// should be taken as exposed), and every URL the node logs has such values replaced.

/** Query parameters clients use for credentials (lowercase). */
const CREDENTIAL_PARAMS = new Set(['key', 'apikey', 'api_key', 'api-key', 'x-api-key', 'token', 'access_token', 'auth', 'password', 'secret']);
/** An edgedns API key anywhere: "edg_" and 32 base64url characters (keys/api-keys.ts). */
const KEY_TEXT = /edg_[A-Za-z0-9_-]+/g;
const REDACTED = 'REDACTED';

function isCredential(name: string, value: string): boolean {
  return CREDENTIAL_PARAMS.has(name.toLowerCase()) || value.includes('edg_');
}

/** The query parameter of `url` that carries a credential, if one does. */
export function credentialParam(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  for (const [name, value] of new URLSearchParams(url.slice(q + 1))) if (isCredential(name, value)) return name;
  return undefined;
}

/** `url` as it may be logged: credential parameters and anything that looks like a key replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(KEY_TEXT, `edg_${REDACTED}`);
  if (q < 0) return path;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const [name, value] of [...params]) if (isCredential(name, value)) params.set(name, REDACTED);
  return `${path}?${params.toString()}`;
}
