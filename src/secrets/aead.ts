// Sealing one secret value (a private key in PEM) for the store: AES-256-GCM from node:crypto, a random 96-bit nonce
// per value, and the id of the document that holds it as associated data, so a sealed value copied into another
// document does not open. The key id says which cluster key sealed it, never the key itself.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const AEAD_ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** How a sealed value sits in a document: every field is text, so CouchDB and PouchDB store it as is. */
export interface SealedValue {
  alg: typeof AEAD_ALGORITHM;
  /** Key id (key-file.ts) of the key that sealed it. */
  kid: string;
  /** base64 */
  nonce: string;
  /** base64 of ciphertext then the 16-byte tag */
  data: string;
}

export interface SecretKey {
  kid: string;
  key: Buffer;
}

export class OpenError extends Error {}

export function seal(key: SecretKey, plaintext: string, documentId: string): SealedValue {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(AEAD_ALGORITHM, key.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(documentId, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { alg: AEAD_ALGORITHM, kid: key.kid, nonce: nonce.toString('base64'), data: data.toString('base64') };
}

export function isSealedValue(value: unknown): value is SealedValue {
  const v = value as SealedValue | undefined;
  return typeof v === 'object' && v !== null && v.alg === AEAD_ALGORITHM && typeof v.kid === 'string' && typeof v.nonce === 'string' && typeof v.data === 'string';
}

/** The plaintext; OpenError when the key is not the one that sealed it, or the value or its document id changed. */
export function open(key: SecretKey, sealed: SealedValue, documentId: string): string {
  const nonce = Buffer.from(sealed.nonce, 'base64');
  const data = Buffer.from(sealed.data, 'base64');
  if (nonce.length !== NONCE_BYTES || data.length < TAG_BYTES) throw new OpenError(`the sealed value in ${documentId} is malformed`);
  try {
    const decipher = createDecipheriv(AEAD_ALGORITHM, key.key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(documentId, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new OpenError(`the sealed value in ${documentId} does not open with key ${key.kid}: wrong key, or the value was altered`);
  }
}
