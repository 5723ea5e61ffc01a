// TSIG keys (RFC 8945) for RFC 2136 dynamic updates, managed like API keys: a name (a DNS name, as TSIG names
// keys), an algorithm, a scope (admin, zone:NAME, acme:NAME), created, listed, revoked; the secret shown once.
//
// Unlike an API key, a TSIG secret cannot be stored as a hash: the server must compute the HMAC of each update with
// the secret itself. So the secret is kept whole, passed through a SecretBox on its way in and out of the store.
// Today's box stores it as it is (scheme "plain"), readable by whoever can read the store, like the ACME account;
// the cluster key's sealing (DESIGN: secrets encrypted at rest) plugs in as another SecretBox, and documents
// written with "plain" still open.

import { randomBytes } from 'node:crypto';
import type { Store, StoredDoc } from '../store/store.js';
import { nameKey, NameError } from '../proto/names.js';
import { TSIG_ALGORITHMS } from '../proto/tsig.js';
import { formatScope, parseScope } from './scopes.js';
import { KeyInputError, KeyNotFoundError, TsigKeyExistsError } from '../errors.js';

export const TSIG_PREFIX = 'tsig/';
export const DEFAULT_TSIG_ALGORITHM = 'hmac-sha256';

/** A secret as the store holds it; `scheme` says which box opens it. */
export interface StoredSecret {
  scheme: string;
  data: string;
}

/** Seals secrets before they are stored and opens them after they are read. */
export interface SecretBox {
  seal(secret: Buffer): StoredSecret;
  /** Throws when the scheme is not one this box opens. */
  open(stored: StoredSecret): Buffer;
}

/** No sealing: the secret in base64, protected as the store is. */
export const plainSecrets: SecretBox = {
  seal: (secret) => ({ scheme: 'plain', data: secret.toString('base64') }),
  open: (stored) => {
    if (stored.scheme !== 'plain') throw new Error(`TSIG secret sealed with "${stored.scheme}", which this node cannot open`);
    return Buffer.from(stored.data, 'base64');
  },
};

export interface TsigKeyDoc extends StoredDoc {
  type: 'tsig-key';
  /** The key's name, a DNS name key ("acme-web1.", lower case). */
  name: string;
  /** Without the trailing dot: "hmac-sha256". */
  algorithm: string;
  secret: StoredSecret;
  scope: string;
  createdAt: string;
  revokedAt?: string;
}

/** What the API shows of a TSIG key: never the secret, except once when it is created. */
export interface TsigKeyInfo {
  name: string;
  algorithm: string;
  scope: string;
  createdAt: string;
  revokedAt: string | null;
}

/** A key ready to verify with. */
export interface TsigKey {
  name: string;
  algorithm: string;
  secret: Buffer;
  scope: string;
  id: string;
}

function info(doc: TsigKeyDoc): TsigKeyInfo {
  return { name: doc.name, algorithm: doc.algorithm, scope: doc.scope, createdAt: doc.createdAt, revokedAt: doc.revokedAt ?? null };
}

function isTsigKeyDoc(doc: StoredDoc | undefined): doc is TsigKeyDoc {
  return doc?.type === 'tsig-key' && typeof doc.name === 'string' && typeof doc.algorithm === 'string' && typeof doc.secret === 'object';
}

/** A key name from the user: a DNS name, made absolute and lower case. */
export function tsigKeyName(text: string): string {
  try {
    const key = nameKey(text.endsWith('.') ? text : text + '.');
    if (key === '.') throw new KeyInputError('a TSIG key name cannot be the root', 'name');
    return key;
  } catch (err) {
    if (err instanceof NameError) throw new KeyInputError(`TSIG key name "${text}": ${err.message}`, 'name');
    throw err;
  }
}

/** "hmac-sha256" (or with its trailing dot, any case) → "hmac-sha256"; a KeyInputError for others. */
export function tsigAlgorithm(text: string): string {
  const name = text.toLowerCase().replace(/\.$/, '');
  const alg = TSIG_ALGORITHMS.get(name + '.');
  if (!alg) throw new KeyInputError(`TSIG algorithm "${text}" is not one of ${[...TSIG_ALGORITHMS.keys()].map((k) => k.slice(0, -1)).join(', ')}`, 'algorithm');
  return name;
}

export async function createTsigKey(store: Store, input: { scope: string; name?: string; algorithm?: string }, box: SecretBox = plainSecrets): Promise<{ key: TsigKeyInfo; secret: string }> {
  const scope = parseScope(input.scope);
  if (scope.kind === 'site') throw new KeyInputError('a TSIG key changes DNS: its scope is admin, zone:NAME or acme:NAME', 'scope');
  const algorithm = tsigAlgorithm(input.algorithm ?? DEFAULT_TSIG_ALGORITHM);
  const name = tsigKeyName(input.name ?? `${scope.kind}-${randomBytes(4).toString('hex')}`);
  // RFC 8945 §6: the secret as long as the hash's output
  const secret = randomBytes((TSIG_ALGORITHMS.get(algorithm + '.') as { size: number }).size);
  const doc: TsigKeyDoc = { _id: TSIG_PREFIX + name, type: 'tsig-key', name, algorithm, secret: box.seal(secret), scope: formatScope(scope), createdAt: new Date().toISOString() };
  try {
    await store.put(doc);
  } catch (err) {
    if ((err as { code?: string }).code === 'conflict') throw new TsigKeyExistsError(name);
    throw err;
  }
  return { key: info(doc), secret: secret.toString('base64') };
}

export async function listTsigKeys(store: Store): Promise<TsigKeyInfo[]> {
  return (await store.list(TSIG_PREFIX)).filter(isTsigKeyDoc).map(info);
}

export async function revokeTsigKey(store: Store, rawName: string): Promise<TsigKeyInfo> {
  const name = tsigKeyName(rawName);
  for (let attempt = 0; attempt < 3; attempt++) {
    const doc = await store.get(TSIG_PREFIX + name);
    if (!isTsigKeyDoc(doc)) throw new KeyNotFoundError(name);
    if (doc.revokedAt) return info(doc);
    const revoked: TsigKeyDoc = { ...doc, revokedAt: new Date().toISOString() };
    try {
      await store.put(revoked);
      return info(revoked);
    } catch (err) {
      if ((err as { code?: string }).code !== 'conflict') throw err;
    }
  }
  throw new Error(`TSIG key ${name} kept changing while being revoked; try again`);
}

/** The key a TSIG record names (its name key), when it exists and is not revoked. */
export async function findTsigKey(store: Store, name: string, box: SecretBox = plainSecrets): Promise<TsigKey | undefined> {
  const doc = await store.get(TSIG_PREFIX + name);
  if (!isTsigKeyDoc(doc) || doc.revokedAt) return undefined;
  return { name: doc.name, algorithm: doc.algorithm + '.', secret: box.open(doc.secret), scope: doc.scope, id: doc._id };
}
