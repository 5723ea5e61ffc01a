// A worker's view of the node's store: every call goes to the primary over the IPC channel and is answered from
// the primary's real store (embedded or CouchDB). Errors come back with their kind, so a conflict is still a
// ConflictError here. Only the DNS side runs in a worker, and it reads; writes pass through all the same.

import { ConflictError, NotFoundError, StoreFullError, StoreUnavailableError, type BulkResult, type ChangesBatch, type ChangesFollower, type FollowOptions, type Store, type StoredDoc, type WriteResult } from '../../store/store.js';
import { isMessage, type RemoteError, type StoreMethod, type ToPrimary, type ToWorker } from './protocol.js';

export interface Channel {
  send(message: ToPrimary): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

/** The IPC channel of a process started by cluster.fork() or child_process.fork(). */
export function processChannel(): Channel {
  return {
    send: (message) => {
      // a primary that is gone cannot be told anything; the worker exits on 'disconnect'
      if (process.connected) process.send?.(message);
    },
    onMessage: (listener) => {
      process.on('message', (message: unknown) => {
        if (isMessage<ToWorker>(message)) listener(message);
      });
    },
  };
}

function toError(error: RemoteError): Error {
  if (error.store?.kind === 'conflict') return new ConflictError(error.store.id);
  if (error.store?.kind === 'not_found') return new NotFoundError(error.store.id);
  if (error.store?.kind === 'unavailable') return new StoreUnavailableError(error.message);
  if (error.store?.kind === 'full') return new StoreFullError(error.message);
  const err = new Error(error.message);
  err.name = error.name;
  return err;
}

export class IpcStore implements Store {
  readonly description: string;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private readonly follows = new Map<number, FollowOptions>();

  constructor(
    private readonly channel: Channel,
    primaryDescription: string,
  ) {
    this.description = primaryDescription;
    channel.onMessage((message) => this.receive(message));
  }

  private receive(message: ToWorker): void {
    switch (message.kind) {
      case 'store-result':
      case 'store-error': {
        const call = this.calls.get(message.id);
        if (!call) return;
        this.calls.delete(message.id);
        if (message.kind === 'store-result') call.resolve(message.value);
        else call.reject(toError(message.error));
        return;
      }
      case 'change':
        this.follows.get(message.id)?.onChange(message.change);
        return;
      case 'follow-error': {
        const follow = this.follows.get(message.id);
        this.follows.delete(message.id);
        follow?.onError(toError(message.error));
        return;
      }
      default:
        return;
    }
  }

  private call<T>(method: StoreMethod, ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.channel.send({ kind: 'store-call', id, method, args });
    });
  }

  get(id: string): Promise<StoredDoc | undefined> {
    return this.call('get', id);
  }
  put(doc: StoredDoc): Promise<WriteResult> {
    return this.call('put', doc);
  }
  bulk(docs: StoredDoc[]): Promise<BulkResult[]> {
    return this.call('bulk', docs);
  }
  remove(id: string, rev: string): Promise<WriteResult> {
    return this.call('remove', id, rev);
  }
  list(prefix: string): Promise<StoredDoc[]> {
    return this.call('list', prefix);
  }
  updateSeq(): Promise<string> {
    return this.call('updateSeq');
  }
  changes(since: string, limit?: number): Promise<ChangesBatch> {
    return this.call('changes', since, limit);
  }
  getMany(ids: string[]): Promise<(StoredDoc | undefined)[]> {
    return this.call('getMany', ids);
  }
  putAttachment(id: string, name: string, rev: string | undefined, data: Buffer, contentType: string): Promise<WriteResult> {
    return this.call('putAttachment', id, name, rev, data, contentType);
  }
  async getAttachment(id: string, name: string): Promise<Buffer | undefined> {
    const value = await this.call<Uint8Array | undefined>('getAttachment', id, name);
    // the advanced serializer hands a Buffer over as a plain Uint8Array
    return value === undefined ? undefined : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }

  follow(options: FollowOptions): ChangesFollower {
    const id = this.nextId++;
    this.follows.set(id, options);
    this.channel.send({ kind: 'follow', id, since: options.since, ...(options.prefixes ? { prefixes: [...options.prefixes] } : {}) });
    return {
      cancel: async () => {
        if (!this.follows.delete(id)) return;
        this.channel.send({ kind: 'unfollow', id });
      },
    };
  }

  /** Calls still waiting for the primary fail: it is gone. */
  async close(): Promise<void> {
    for (const call of this.calls.values()) call.reject(new Error('the primary process is gone'));
    this.calls.clear();
    this.follows.clear();
  }
}
