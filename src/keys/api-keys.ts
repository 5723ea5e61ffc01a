// API keys: the secret is shown once and only its SHA-256 is stored, so a copy of the database (which every node
// replicates) does not hand out credentials. The first start of a node writes a bootstrap admin key to
// <data>/admin.key for the CLI on the same machine.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Store, StoredDoc } from '../store/store.js';

export const KEY_PREFIX = 'key/';
export const ADMIN_KEY_FILE = 'admin.key';

export interface KeyDoc extends StoredDoc {
  type: 'key';
  name: string;
  scope: string;
  hash: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newSecret(): string {
  return 'edg_' + randomBytes(24).toString('base64url');
}

export function adminKeyPath(dataDir: string): string {
  return path.join(dataDir, ADMIN_KEY_FILE);
}

export async function readAdminKeyFile(dataDir: string): Promise<string | undefined> {
  try {
    return (await readFile(adminKeyPath(dataDir), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Makes sure the node's bootstrap admin key exists, on disk (mode 0600) and hashed in the store. */
export async function ensureBootstrapKey(store: Store, dataDir: string, nodeId: string): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  let secret = await readAdminKeyFile(dataDir);
  if (!secret) {
    secret = newSecret();
    await writeFile(adminKeyPath(dataDir), secret + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    secret = (await readAdminKeyFile(dataDir)) as string;
  }
  const id = `${KEY_PREFIX}bootstrap-${nodeId}`;
  const hash = hashKey(secret);
  const existing = (await store.get(id)) as KeyDoc | undefined;
  // An ordinary admin key from here on: once revoked (edgedns key revoke) it stays revoked.
  if (existing?.revokedAt && existing.hash === hash) return secret;
  if (!existing || existing.hash !== hash) {
    const doc: KeyDoc = { _id: id, type: 'key', name: `bootstrap admin key of node ${nodeId}`, scope: 'admin', hash, createdAt: new Date().toISOString() };
    if (existing) doc._rev = existing._rev;
    await store.put(doc);
  }
  return secret;
}

export interface Principal {
  keyId: string;
  name: string;
  scope: string;
}

export type AuthResult = { principal: Principal } | { failure: 'unknown' | 'revoked' | 'expired'; name?: string };

/**
 * Last use is written at most this often per key, so uses do not turn into writes: every node replicates the key
 * document, each write of it is carried by every replication of the mesh, and it lands just before the write the key
 * was used for (a minute made nearly every ACME or operator write come with one). An hour still tells a key in use
 * from a forgotten one.
 */
const LAST_USE_INTERVAL_MS = 3_600_000;

export async function authenticate(store: Store, secret: string): Promise<Principal | undefined> {
  const result = await checkKey(store, secret);
  return 'principal' in result ? result.principal : undefined;
}

export async function checkKey(store: Store, secret: string, now = Date.now()): Promise<AuthResult> {
  const presented = Buffer.from(hashKey(secret), 'hex');
  for (const doc of await store.list(KEY_PREFIX)) {
    if (doc.type !== 'key' || typeof doc.hash !== 'string') continue;
    const stored = Buffer.from(doc.hash, 'hex');
    if (stored.length === presented.length && timingSafeEqual(stored, presented)) return keyVerdict(store, doc as KeyDoc, now);
  }
  return { failure: 'unknown' };
}

/** What a key found for a presented secret allows: revoked, expired, or who it is (its use noted, best effort). */
export function keyVerdict(store: Store, key: KeyDoc, now = Date.now()): AuthResult {
  if (key.revokedAt) return { failure: 'revoked', name: key.name };
  if (key.expiresAt && Date.parse(key.expiresAt) <= now) return { failure: 'expired', name: key.name };
  if (!key.lastUsedAt || now - Date.parse(key.lastUsedAt) > LAST_USE_INTERVAL_MS) {
    // best effort: a conflicting write (another node, a revoke) wins and the next use tries again; with the store
    // down the key still works (it is known from memory) and its use is simply not recorded
    store.put({ ...key, lastUsedAt: new Date(now).toISOString() }).catch(() => undefined);
  }
  return { principal: { keyId: key._id, name: String(key.name), scope: String(key.scope) } };
}
