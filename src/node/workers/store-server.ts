// The primary's side of IpcStore: answers one worker's store calls from the node's real store and streams the
// changes feeds it follows. Everything a worker asked for ends with it (close()).

import { ConflictError, NotFoundError, StoreFullError, StoreUnavailableError, type ChangesFollower, type Store } from '../../store/store.js';
import { STORE_METHODS, type RemoteError, type ToPrimary, type ToWorker } from './protocol.js';

function remoteError(err: unknown): RemoteError {
  const e = err as Error;
  return { name: e.name ?? 'Error', message: e.message ?? String(err), ...storeKind(err) };
}

/** What a worker needs to throw the same store error again (a store outage is one for the worker too). */
function storeKind(err: unknown): Pick<RemoteError, 'store'> {
  if (err instanceof ConflictError) return { store: { kind: 'conflict', id: err.id } };
  if (err instanceof NotFoundError) return { store: { kind: 'not_found', id: err.id } };
  if (err instanceof StoreUnavailableError) return { store: { kind: 'unavailable' } };
  if (err instanceof StoreFullError) return { store: { kind: 'full' } };
  return {};
}

export class StoreServer {
  private readonly follows = new Map<number, ChangesFollower>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly send: (message: ToWorker) => void,
  ) {}

  /** Handles a message if it is a store request; false otherwise. */
  handle(message: ToPrimary): boolean {
    if (this.closed) return false;
    switch (message.kind) {
      case 'store-call':
        void this.call(message.id, message.method, message.args);
        return true;
      case 'follow': {
        const id = message.id;
        this.follows.set(
          id,
          this.store.follow({
            since: message.since,
            ...(message.prefixes ? { prefixes: message.prefixes } : {}),
            onChange: (change) => this.send({ kind: 'change', id, change }),
            onError: (err) => {
              this.follows.delete(id);
              this.send({ kind: 'follow-error', id, error: remoteError(err) });
            },
          }),
        );
        return true;
      }
      case 'unfollow': {
        const follower = this.follows.get(message.id);
        this.follows.delete(message.id);
        void follower?.cancel();
        return true;
      }
      default:
        return false;
    }
  }

  private async call(id: number, method: string, args: unknown[]): Promise<void> {
    if (!(STORE_METHODS as readonly string[]).includes(method)) {
      this.send({ kind: 'store-error', id, error: { name: 'Error', message: `unknown store method ${method}` } });
      return;
    }
    try {
      // the method name was checked against the Store interface's list above; arguments are the worker's
      const fn = (this.store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
      // the advanced serializer hands a Buffer over as a plain Uint8Array; stores expect Buffers
      const value = await fn.apply(this.store, args.map((a) => (a instanceof Uint8Array && !Buffer.isBuffer(a) ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : a)));
      if (!this.closed) this.send({ kind: 'store-result', id, value });
    } catch (err) {
      if (!this.closed) this.send({ kind: 'store-error', id, error: remoteError(err) });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const followers = [...this.follows.values()];
    this.follows.clear();
    await Promise.all(followers.map((f) => f.cancel().catch(() => undefined)));
  }
}
