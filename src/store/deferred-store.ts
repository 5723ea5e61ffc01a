// A store that could not be opened at start (the embedded store on a full disk, or locked), opened again in the
// background until it works. Meanwhile every call fails with StoreUnavailableError, as a CouchDB that is down would,
// so the node answers DNS from its local state and the API says 503; once open, it is the store.

import type { Logger } from 'pino';
import {
  StoreUnavailableError,
  type BulkResult,
  type ChangesBatch,
  type ChangesFollower,
  type FollowOptions,
  type Store,
  type StoredDoc,
  type WriteResult,
} from './store.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

export class DeferredStore implements Store {
  readonly description: string;
  #store: Store | undefined;
  #why: string;
  #timer: NodeJS.Timeout | undefined;
  #delay = FIRST_RETRY_MS;
  #closed = false;
  readonly #opened = new Set<(store: Store) => void>();

  constructor(
    description: string,
    why: Error,
    private readonly open: () => Promise<Store>,
    private readonly logger: Logger,
  ) {
    this.description = description;
    this.#why = why.message;
    this.#schedule();
  }

  /** Calls back once the store is open (at once if it is). */
  onOpen(listener: (store: Store) => void): void {
    if (this.#store) listener(this.#store);
    else this.#opened.add(listener);
  }

  get isOpen(): boolean {
    return this.#store !== undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.open().then(
        (store) => {
          if (this.#closed) return void store.close();
          this.#store = store;
          this.logger.info({ store: this.description }, 'the store is open now');
          for (const listener of this.#opened) listener(store);
          this.#opened.clear();
        },
        (err: unknown) => {
          this.#why = (err as Error).message;
          this.#delay = Math.min(this.#delay * 2, MAX_RETRY_MS);
          this.logger.warn({ store: this.description, err: this.#why, retryInMs: this.#delay }, 'the store still cannot be opened');
          this.#schedule();
        },
      );
    }, this.#delay);
    this.#timer.unref();
  }

  #current(): Store {
    if (this.#store) return this.#store;
    throw new StoreUnavailableError(`the store is not open: ${this.#why}`);
  }

  async get(id: string): Promise<StoredDoc | undefined> {
    return this.#current().get(id);
  }
  async put(doc: StoredDoc): Promise<WriteResult> {
    return this.#current().put(doc);
  }
  async bulk(docs: StoredDoc[]): Promise<BulkResult[]> {
    return this.#current().bulk(docs);
  }
  async remove(id: string, rev: string): Promise<WriteResult> {
    return this.#current().remove(id, rev);
  }
  async list(prefix: string): Promise<StoredDoc[]> {
    return this.#current().list(prefix);
  }
  async updateSeq(): Promise<string> {
    return this.#current().updateSeq();
  }
  async changes(since: string, limit?: number): Promise<ChangesBatch> {
    return this.#current().changes(since, limit);
  }
  async getMany(ids: string[]): Promise<(StoredDoc | undefined)[]> {
    return this.#current().getMany(ids);
  }
  async putAttachment(id: string, name: string, rev: string | undefined, data: Buffer, contentType: string): Promise<WriteResult> {
    return this.#current().putAttachment(id, name, rev, data, contentType);
  }
  async getAttachment(id: string, name: string): Promise<Buffer | undefined> {
    return this.#current().getAttachment(id, name);
  }

  follow(options: FollowOptions): ChangesFollower {
    if (this.#store) return this.#store.follow(options);
    // Not open: the feed fails at once, as a feed of an unreachable CouchDB does; its owner follows again later.
    let cancelled = false;
    setImmediate(() => {
      if (!cancelled) options.onError(new StoreUnavailableError(`the store is not open: ${this.#why}`));
    });
    return {
      cancel: async () => {
        cancelled = true;
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#store?.close();
  }
}
