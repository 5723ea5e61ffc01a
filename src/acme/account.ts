// The cluster's ACME account at one CA: one document per directory URL, its private key sealed with the cluster key,
// so every node orders under the same account (one set of rate limits, one place to revoke).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type * as acme from 'acme-client';
import type { ClusterSecrets } from '../secrets/cluster-secrets.js';
import type { SealedValue } from '../secrets/aead.js';
import { isSealedValue } from '../secrets/aead.js';
import { ConflictError, type Store, type StoredDoc } from '../store/store.js';

export const ACCOUNT_PREFIX = 'acme-account/';

export interface AccountDoc extends StoredDoc {
  type: 'acme-account';
  directoryUrl: string;
  accountUrl: string;
  secret: SealedValue;
  createdAt: string;
  by: string;
}

export const accountId = (directoryUrl: string): string => ACCOUNT_PREFIX + createHash('sha256').update(directoryUrl).digest('hex').slice(0, 16);

/** acme-client polls challenge and order status with this back-off: a CA answers in seconds, pebble at once. */
const BACKOFF = { backoffAttempts: 12, backoffMin: 500, backoffMax: 10_000 };

let trustedCaFile: string | undefined;

/**
 * The ACME library, loaded on the first order: it (with axios and node-forge) takes seconds to load on a busy
 * machine, and a node that orders nothing should not start slower for it.
 */
export async function loadAcme(caFile: string | undefined): Promise<typeof acme> {
  const library = await import('acme-client');
  // Trusts `caFile` besides the system roots for the CA's directory (a private CA, or pebble in tests). acme-client
  // sends every request through one axios instance per process, so this is process-wide.
  if (caFile !== undefined && caFile !== trustedCaFile) {
    library.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, readFileSync(caFile, 'utf8')], keepAlive: true });
    trustedCaFile = caFile;
  }
  return library;
}

export interface AccountOptions {
  caFile?: string;
  store: Store;
  secrets: ClusterSecrets;
  directoryUrl: string;
  email?: string;
  nodeId: string;
}

/** A client for the cluster's account, registering it (terms of service agreed) the first time. */
export async function accountClient(options: AccountOptions): Promise<acme.Client> {
  const { store, secrets, directoryUrl } = options;
  const acme = await loadAcme(options.caFile);
  const id = accountId(directoryUrl);
  const existing = await store.get(id);
  if (existing && isSealedValue(existing.secret) && typeof existing.accountUrl === 'string') {
    const accountKey = await secrets.open(existing.secret, id);
    return new acme.Client({ directoryUrl, accountKey, accountUrl: existing.accountUrl, ...BACKOFF });
  }
  const accountKey = await acme.crypto.createPrivateEcdsaKey('P-256');
  const client = new acme.Client({ directoryUrl, accountKey, ...BACKOFF });
  await client.createAccount({ termsOfServiceAgreed: true, ...(options.email ? { contact: [`mailto:${options.email}`] } : {}) });
  const doc: AccountDoc = {
    _id: id,
    type: 'acme-account',
    directoryUrl,
    accountUrl: client.getAccountUrl(),
    secret: await secrets.seal(accountKey.toString(), id),
    createdAt: new Date().toISOString(),
    by: options.nodeId,
  };
  try {
    await store.put(doc);
  } catch (err) {
    // Another node registered at the same moment: use its account, so the cluster keeps one.
    if (err instanceof ConflictError) return accountClient(options);
    throw err;
  }
  return client;
}
