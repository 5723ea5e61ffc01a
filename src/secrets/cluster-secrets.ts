// The node's view of the cluster secrets key: its key file, and the marker document `secrets/key` that names (by
// key id) the key the cluster's values are sealed with. The first node to start creates both; a node whose file
// lacks the marked key (or has no file while the cluster has one) keeps serving HTTP, seals and opens nothing, and
// says why: in its log at error level, in /healthz ("degraded") and in edgedns_secrets_key_ok.

import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { ConflictError, type Store, type StoredDoc } from '../store/store.js';
import { isSealedValue, type SealedValue } from './aead.js';
import { KeyFileError, Keyring, newKey, readKeyFile, writeKeyFile } from './key-file.js';
import { SecretsUnavailableError } from '../errors.js';

export const KEY_MARKER_ID = 'secrets/key';
/** The field of a document that holds its one sealed value (a private key). */
export const SEALED_FIELD = 'secret';

export interface KeyMarkerDoc extends StoredDoc {
  type: 'secrets-key';
  kid: string;
  updatedAt: string;
}

export { SecretsUnavailableError };

/** While this node lacks the cluster's key it reads its key file again this often: copying it in needs no restart. */
export const KEY_FILE_RECHECK_MS = 10_000;

export function isKeyMarker(doc: StoredDoc | undefined): doc is KeyMarkerDoc {
  return doc !== undefined && doc._id === KEY_MARKER_ID && doc.type === 'secrets-key' && typeof doc.kid === 'string';
}

export class ClusterSecrets {
  private problemText: string | undefined;
  private markedKid: string | undefined;
  private readonly listeners = new Set<() => void>();
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly store: Store,
    readonly file: string,
    private keyring: Keyring | undefined,
    private readonly logger: Logger,
  ) {}

  /**
   * Reads the key file; creates it (0600) and the marker when neither exists (the first node of a cluster). Never
   * throws for a missing or wrong key: the node must still serve HTTP.
   */
  static async open(options: { store: Store; file: string; logger: Logger; registry: Registry }): Promise<ClusterSecrets> {
    const { store, file, logger } = options;
    let keyring: Keyring | undefined;
    let problem: string | undefined;
    try {
      const keys = await readKeyFile(file);
      if (keys) keyring = new Keyring(file, keys);
    } catch (err) {
      problem = (err as Error).message;
    }
    let marker: StoredDoc | undefined;
    let storeReadable = true;
    try {
      marker = await store.get(KEY_MARKER_ID);
    } catch (err) {
      storeReadable = false;
      logger.warn({ err: (err as Error).message }, 'cannot read the secrets key marker yet; checking the key when the store answers');
    }
    if (!keyring && problem === undefined && storeReadable && !isKeyMarker(marker)) {
      // Nothing sealed anywhere yet: this is the first node. 'wx': two processes starting at once keep one key.
      const key = newKey();
      try {
        await writeKeyFile(file, [key], { exclusive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyFileError(`cannot create ${file}: ${(err as Error).message}`);
      }
      const keys = await readKeyFile(file);
      if (keys) keyring = new Keyring(file, keys);
      logger.info({ file, kid: keyring?.current.kid }, 'created the cluster secrets key file; copy it to every node you add (docs/https.md)');
    }
    const secrets = new ClusterSecrets(store, file, keyring, logger);
    secrets.problemText = problem;
    // The marker is written with the first sealed value, not here: nodes started side by side before they were meshed
    // (each with a key of its own) then conflict only if they both seal something, and the losers say so.
    if (isKeyMarker(marker)) secrets.applyMarker(marker);
    else if (!keyring && problem === undefined) secrets.problemText = `no secrets key file at ${file}; copy it from a node of the cluster`;
    if (secrets.problemText) secrets.logProblem();
    const gauge: Gauge = new Gauge({
      name: 'edgedns_secrets_key_ok',
      help: '1 when this node holds the key the cluster seals secrets with, 0 when it cannot open them (see its log)',
      registers: [options.registry],
      collect: (): void => gauge.set(secrets.problem() === undefined ? 1 : 0),
    });
    return secrets;
  }

  /** Why this node cannot seal or open secrets, or undefined when it can. */
  problem(): string | undefined {
    return this.problemText;
  }

  /** Called after the key changed (rotation, a marker that arrived by replication). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get kid(): string | undefined {
    return this.problemText === undefined ? this.keyring?.current.kid : undefined;
  }

  /** Seals a value for the store; the first one also names this key in the marker document. */
  async seal(plaintext: string, documentId: string): Promise<SealedValue> {
    if (this.problemText !== undefined || !this.keyring) throw new SecretsUnavailableError(this.problemText ?? 'no secrets key');
    if (this.markedKid !== this.keyring.current.kid) await this.writeMarker(this.keyring.current.kid);
    return this.keyring.seal(plaintext, documentId);
  }

  /** Opens a sealed value; a value sealed with a key this node lacks makes it re-read its file once. */
  async open(sealed: SealedValue, documentId: string): Promise<string> {
    if (!this.keyring) throw new SecretsUnavailableError(this.problemText ?? 'no secrets key');
    if (!this.keyring.has(sealed.kid)) await this.keyring.reload().catch(() => false);
    return this.keyring.open(sealed, documentId);
  }

  /**
   * SIGHUP: reads the key file again (a key copied in or replaced since the start) and checks it against the
   * cluster's marker; listeners hear of a change (the certificate index opens its keys again).
   */
  async reload(): Promise<void> {
    if (!this.keyring) {
      const keys = await readKeyFile(this.file).catch(() => undefined);
      if (keys) this.keyring = new Keyring(this.file, keys);
    } else await this.keyring.reload().catch(() => false);
    if (this.markedKid !== undefined) await this.check();
    else if (this.keyring && this.problemText !== undefined) {
      // nothing sealed in the cluster yet, and now a readable key file: nothing stands in the way any more
      this.problemText = undefined;
      this.logger.info({ file: this.file }, 'secrets key file read');
      for (const listener of this.listeners) listener();
    }
  }

  /** A marker document seen on the changes feed (another node created or rotated the key). */
  applyMarker(doc: StoredDoc): void {
    if (!isKeyMarker(doc)) return;
    this.markedKid = doc.kid;
    void this.check();
  }

  /** Stops looking at the key file again. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
  }

  private async check(): Promise<void> {
    const before = this.problemText;
    const kid = this.markedKid;
    if (kid === undefined) return;
    // The operator may have copied the right file in since: read it again.
    if (!this.keyring) {
      const keys = await readKeyFile(this.file).catch(() => undefined);
      if (keys) this.keyring = new Keyring(this.file, keys);
    } else if (!this.keyring.has(kid)) await this.keyring.reload().catch(() => false);
    if (this.markedKid !== kid) return;
    if (!this.keyring) this.problemText = `no secrets key file at ${this.file}, and the cluster seals its secrets with key ${kid}: copy the key file from a node of the cluster`;
    else if (!this.keyring.has(kid)) this.problemText = `${this.file} holds key ${this.keyring.kids().join(', ')} but the cluster seals its secrets with key ${kid}: copy the key file from a node of the cluster and restart`;
    else this.problemText = undefined;
    if (this.problemText !== before) {
      if (this.problemText) this.logProblem();
      else this.logger.info({ kid }, 'secrets key matches the cluster again');
      for (const listener of this.listeners) listener();
    }
    clearTimeout(this.retry);
    if (this.problemText !== undefined && !this.closed) {
      this.retry = setTimeout(() => void this.check(), KEY_FILE_RECHECK_MS);
      this.retry.unref();
    }
  }

  private logProblem(): void {
    this.logger.error({ file: this.file, reason: this.problemText }, `SECRETS KEY PROBLEM: this node serves HTTP but no certificate and orders none: ${this.problemText}`);
  }

  private async writeMarker(kid: string, replace = false): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.store.get(KEY_MARKER_ID);
      if (isKeyMarker(current) && current.kid === kid) return this.applyMarker(current);
      if (isKeyMarker(current) && !replace) {
        // Another node sealed first, with another key: this one is not the cluster's.
        this.applyMarker(current);
        await this.check();
        throw new SecretsUnavailableError(this.problemText ?? `the cluster seals its secrets with key ${current.kid}`);
      }
      try {
        const doc: KeyMarkerDoc = { _id: KEY_MARKER_ID, ...(current?._rev ? { _rev: current._rev } : {}), type: 'secrets-key', kid, updatedAt: new Date().toISOString() };
        await this.store.put(doc);
        this.markedKid = kid;
        return;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
  }

  /**
   * `edgedns secrets rotate`: a new key becomes the first of the file (the old ones stay for opening), every sealed
   * value under `prefixes` is sealed again with it, then the marker names it. Other nodes need the new file.
   */
  async rotate(prefixes: string[]): Promise<{ kid: string; previous: string; resealed: number }> {
    if (this.problemText !== undefined || !this.keyring) throw new SecretsUnavailableError(this.problemText ?? 'no secrets key');
    const previous = this.keyring.current.kid;
    const key = newKey();
    const keyring = this.keyring;
    await keyring.rotate(key);
    let resealed = 0;
    for (const prefix of prefixes) {
      for (const doc of await this.store.list(prefix)) {
        for (let attempt = 0, current: StoredDoc | undefined = doc; current && attempt < 5; attempt++) {
          const sealed = current[SEALED_FIELD];
          if (!isSealedValue(sealed) || sealed.kid === key.kid) break;
          const plaintext = keyring.open(sealed, current._id);
          try {
            await this.store.put({ ...current, [SEALED_FIELD]: keyring.seal(plaintext, current._id) });
            resealed++;
            break;
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
            current = await this.store.get(doc._id);
          }
        }
      }
    }
    await this.writeMarker(key.kid, true);
    this.logger.info({ kid: key.kid, previous, resealed }, 'secrets key rotated; copy the new key file to every other node');
    for (const listener of this.listeners) listener();
    return { kid: key.kid, previous, resealed };
  }
}
