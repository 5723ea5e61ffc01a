// Creating, listing and revoking API keys. The secret is returned once by createKey and never stored: only its
// SHA-256. A revoked key keeps its document (marked revokedAt) so the revocation replicates like any write and a
// bootstrap key is not silently recreated.

import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import { hashKey, KEY_PREFIX, newSecret, type KeyDoc } from './api-keys.js';
import { formatScope, parseScope } from './scopes.js';
import { KeyInputError, KeyNotFoundError } from '../errors.js';

/** What the API shows of a key: never the hash. */
export interface KeyInfo {
  id: string;
  name: string;
  scope: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };
const MAX_NAME = 100;

/** "90d", "12h", "30m", "45s", "2w" from now, or an ISO date; undefined for "never". */
export function parseExpiry(text: string | undefined, now = Date.now()): string | undefined {
  if (text === undefined || text === '' || text === 'never') return undefined;
  const m = /^(\d{1,6})([smhdw])$/.exec(text);
  let at: number;
  if (m) at = now + Number(m[1]) * (UNITS[m[2]] as number) * 1000;
  else {
    at = Date.parse(text);
    if (!/^\d{4}-\d\d-\d\d/.test(text) || Number.isNaN(at)) throw new KeyInputError(`expiry "${text}" is not a duration like 90d, 12h, 30m or an ISO date`, 'expires');
  }
  if (at <= now) throw new KeyInputError(`expiry "${text}" is in the past`, 'expires');
  return new Date(at).toISOString();
}

export function keyIdOf(docId: string): string {
  return docId.slice(KEY_PREFIX.length);
}

export function keyInfo(doc: KeyDoc): KeyInfo {
  return {
    id: keyIdOf(doc._id),
    name: doc.name,
    scope: doc.scope,
    createdAt: doc.createdAt,
    lastUsedAt: doc.lastUsedAt ?? null,
    expiresAt: doc.expiresAt ?? null,
    revokedAt: doc.revokedAt ?? null,
  };
}

export async function createKey(store: Store, input: { scope: string; name?: string; expires?: string }): Promise<{ key: KeyInfo; secret: string }> {
  const scope = formatScope(parseScope(input.scope));
  const name = input.name ?? scope;
  if (name.length === 0 || name.length > MAX_NAME || /[\x00-\x1f]/.test(name)) {
    throw new KeyInputError(`name must be 1-${MAX_NAME} printable characters`, 'name');
  }
  const expiresAt = parseExpiry(input.expires);
  const secret = newSecret();
  const doc: KeyDoc = {
    _id: KEY_PREFIX + 'k' + randomBytes(6).toString('hex'),
    type: 'key',
    name,
    scope,
    hash: hashKey(secret),
    createdAt: new Date().toISOString(),
    ...(expiresAt ? { expiresAt } : {}),
  };
  await store.put(doc);
  return { key: keyInfo(doc), secret };
}

export async function listKeys(store: Store): Promise<KeyInfo[]> {
  const docs = (await store.list(KEY_PREFIX)).filter((d): d is KeyDoc => d.type === 'key');
  return docs.map(keyInfo);
}

export async function revokeKey(store: Store, id: string): Promise<KeyInfo> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const doc = (await store.get(KEY_PREFIX + id)) as KeyDoc | undefined;
    if (!doc || doc.type !== 'key') throw new KeyNotFoundError(id);
    if (doc.revokedAt) return keyInfo(doc);
    const revoked: KeyDoc = { ...doc, revokedAt: new Date().toISOString() };
    try {
      await store.put(revoked);
      return keyInfo(revoked);
    } catch (err) {
      if ((err as { code?: string }).code !== 'conflict') throw err; // a last-use update raced us: read again
    }
  }
  throw new Error(`key ${id} kept changing while being revoked; try again`);
}
