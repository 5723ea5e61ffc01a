// The cluster secrets key: 32 random bytes in a file on every node (never in the store, a log or a metric). The file
// holds the current key first and, after `edgedns secrets rotate`, the keys before it, so values sealed under an
// older key still open while the cluster moves over. Comment lines start with "#".

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OpenError, open, seal, type SealedValue, type SecretKey } from './aead.js';

export const KEY_BYTES = 32;
const HEADER = '# edgedns cluster secrets key (docs/https.md): copy this file, mode 0600, to every node of the cluster.\n# The first key seals new values; older keys only open values sealed before a rotation.\n';

export class KeyFileError extends Error {}

/** A key's public name: a hash of the key, so logs and documents can say which key sealed a value. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('edgedns-secrets-kid\0').update(key).digest('hex').slice(0, 16);
}

export function newKey(): SecretKey {
  const key = randomBytes(KEY_BYTES);
  return { kid: keyId(key), key };
}

export function parseKeyFile(text: string, file: string): SecretKey[] {
  const keys: SecretKey[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const key = Buffer.from(line, 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64') !== line) throw new KeyFileError(`${file}:${i + 1}: not a base64 ${KEY_BYTES}-byte key`);
    keys.push({ kid: keyId(key), key });
  }
  if (keys.length === 0) throw new KeyFileError(`${file} holds no key`);
  return keys;
}

export function formatKeyFile(keys: SecretKey[]): string {
  return HEADER + keys.map((k) => k.key.toString('base64')).join('\n') + '\n';
}

/** The keys of the file, or undefined when it does not exist. */
export async function readKeyFile(file: string): Promise<SecretKey[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeyFileError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseKeyFile(text, file);
}

/** Writes the file atomically, mode 0600 (a rename, so a reader never sees half a key). */
export async function writeKeyFile(file: string, keys: SecretKey[], options: { exclusive?: boolean } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  if (options.exclusive) {
    await writeFile(file, formatKeyFile(keys), { mode: 0o600, flag: 'wx' });
    return;
  }
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, formatKeyFile(keys), { mode: 0o600 });
  await rename(temp, file);
}

/** The keys one node holds: it seals with the first, opens with whichever sealed a value. */
export class Keyring {
  constructor(
    readonly file: string,
    private keys: SecretKey[],
  ) {}

  get current(): SecretKey {
    return this.keys[0] as SecretKey;
  }

  kids(): string[] {
    return this.keys.map((k) => k.kid);
  }

  has(kid: string): boolean {
    return this.keys.some((k) => k.kid === kid);
  }

  seal(plaintext: string, documentId: string): SealedValue {
    return seal(this.current, plaintext, documentId);
  }

  open(sealed: SealedValue, documentId: string): string {
    const key = this.keys.find((k) => k.kid === sealed.kid);
    if (!key) throw new OpenError(`${documentId} was sealed with key ${sealed.kid}, which ${this.file} does not hold (it holds ${this.kids().join(', ')})`);
    return open(key, sealed, documentId);
  }

  /** Reads the file again (another process rotated it, or an operator copied a new one in); false when unchanged. */
  async reload(): Promise<boolean> {
    const keys = await readKeyFile(this.file);
    if (!keys) throw new KeyFileError(`${this.file} has disappeared`);
    const changed = keys.map((k) => k.kid).join() !== this.kids().join();
    this.keys = keys;
    return changed;
  }

  /** Makes `key` the current one, keeping the others for opening; writes the file. */
  async rotate(key: SecretKey): Promise<void> {
    const keys = [key, ...this.keys.filter((k) => k.kid !== key.kid)];
    await writeKeyFile(this.file, keys);
    this.keys = keys;
  }
}
