// "One node orders a given name at a time": a lease document per name, `lease/acme/<name>`, with a holder, a random
// token and an expiry. Any node may take a free or expired lease (so a dead holder is taken over after LEASE_MS).
// Two nodes on different CouchDB servers can both write the lease before either sees the other's write; both then
// wait `settleMs` for replication and read it again: CouchDB picks the same winning revision on every server, so
// exactly one of them still finds its own token and orders. The lease also carries the cluster's back-off for the
// name, so a failing name is retried by the whole cluster at a slowing pace, not by every node at once.
//
// A node decides that a name needs an order from its own view of the certificates, which can lag its store: the
// holder before it may have written the certificate and freed the lease a moment ago. The holder writes the
// certificate before it frees the lease, so once the free lease is read here, the certificate is in the store too:
// `stillWanted` asks the store again at that point (and once more after winning a race), and a name that no longer
// needs an order is left alone instead of being ordered a second time.

import { randomUUID } from 'node:crypto';
import { ConflictError, type Store, type StoredDoc } from '../store/store.js';

export const LEASE_PREFIX = 'lease/acme/';
/** Long enough for an order; the holder extends it while ordering. */
export const LEASE_MS = 120_000;
/** Time for a concurrent lease write on another server to replicate here before the winner is read. */
export const DEFAULT_SETTLE_MS = 5_000;
const FIRST_RETRY_MS = 60_000;
const MAX_RETRY_MS = 6 * 3600_000;

export interface LeaseDoc extends StoredDoc {
  type: 'acme-lease';
  name: string;
  holder: string;
  token: string;
  /** Free after this time (ISO). */
  expiresAt: string;
  /** Failed orders in a row. */
  failures: number;
  lastError?: string;
  /** No node orders the name again before this, unless told to (edgedns cert renew). */
  retryAt?: string;
  updatedAt: string;
}

export const leaseId = (name: string): string => LEASE_PREFIX + name;

export function isLeaseDoc(doc: StoredDoc | undefined): doc is LeaseDoc {
  return doc !== undefined && doc.type === 'acme-lease' && typeof doc.holder === 'string' && typeof doc.expiresAt === 'string';
}

/** Back-off after `failures` failed orders in a row: 1 min, doubling, at most 6 h. */
export function retryDelay(failures: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS);
}

export type LeaseOutcome =
  | { taken: true; lease: Lease }
  | { taken: false; reason: 'held'; holder: string; until: string }
  | { taken: false; reason: 'backoff'; until: string; lastError?: string }
  /** `stillWanted` said no: the name needs no order any more (another node's certificate reached the store). */
  | { taken: false; reason: 'unwanted' };

export interface LeaseOptions {
  nodeId: string;
  /** Ignore the back-off (an operator asked for the order). */
  force?: boolean;
  settleMs?: number;
  leaseMs?: number;
  now?: () => number;
  /**
   * Asked once the lease is found free, before it is written, and again once it is won: whether the order is still
   * wanted, judged from the store. Without it, a free lease is always taken (an operator's forced order).
   */
  stillWanted?: () => Promise<boolean>;
}

export async function takeLease(store: Store, name: string, options: LeaseOptions): Promise<LeaseOutcome> {
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? LEASE_MS;
  const id = leaseId(name);
  const current = await store.get(id);
  const held = heldByOther(current, options.nodeId, now());
  if (held) return held;
  if (isLeaseDoc(current) && !options.force && current.retryAt && Date.parse(current.retryAt) > now()) {
    return { taken: false, reason: 'backoff', until: current.retryAt, lastError: current.lastError };
  }
  if (options.stillWanted && !(await options.stillWanted())) return { taken: false, reason: 'unwanted' };
  const token = randomUUID();
  const doc: LeaseDoc = {
    _id: id,
    ...(current?._rev ? { _rev: current._rev } : {}),
    type: 'acme-lease',
    name,
    holder: options.nodeId,
    token,
    expiresAt: new Date(now() + leaseMs).toISOString(),
    failures: isLeaseDoc(current) ? current.failures : 0,
    ...(isLeaseDoc(current) && current.lastError ? { lastError: current.lastError } : {}),
    updatedAt: new Date(now()).toISOString(),
  };
  let rev: string;
  try {
    rev = (await store.put(doc)).rev;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    return lost(await store.get(id), now());
  }
  await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? DEFAULT_SETTLE_MS));
  const winner = await store.get(id);
  if (!isLeaseDoc(winner) || winner.token !== token) {
    // Drop our losing revision so the document does not keep a conflict (best effort: the winner is what counts).
    await store.remove(id, rev).catch(() => undefined);
    return lost(winner, now());
  }
  const lease = new Lease(store, { ...winner, _rev: winner._rev }, leaseMs, now);
  // A certificate that arrived while we settled (replicated after the freed lease, or imported): no order after all.
  if (options.stillWanted && !(await options.stillWanted())) {
    await lease.release({ ok: true });
    return { taken: false, reason: 'unwanted' };
  }
  return { taken: true, lease };
}

function heldByOther(doc: StoredDoc | undefined, nodeId: string, now: number): LeaseOutcome | undefined {
  if (!isLeaseDoc(doc) || doc.holder === '' || Date.parse(doc.expiresAt) <= now) return undefined;
  // Our own unexpired lease is held by an order still running in this process, or by one that died with it.
  return { taken: false, reason: 'held', holder: doc.holder === nodeId ? `${nodeId} (this node)` : doc.holder, until: doc.expiresAt };
}

function lost(winner: StoredDoc | undefined, now: number): LeaseOutcome {
  return isLeaseDoc(winner) ? { taken: false, reason: 'held', holder: winner.holder, until: winner.expiresAt } : { taken: false, reason: 'held', holder: 'another node', until: new Date(now).toISOString() };
}

export class Lease {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private doc: LeaseDoc,
    private readonly leaseMs: number,
    private readonly now: () => number,
  ) {
    // Extend the lease while the order runs, so a slow CA does not let another node start a second order.
    this.timer = setInterval(() => void this.extend(), Math.max(1000, leaseMs / 3));
    this.timer.unref();
  }

  get token(): string {
    return this.doc.token;
  }

  private async extend(): Promise<void> {
    try {
      const next = { ...this.doc, expiresAt: new Date(this.now() + this.leaseMs).toISOString(), updatedAt: new Date(this.now()).toISOString() };
      next._rev = (await this.store.put(next)).rev;
      this.doc = next;
    } catch {
      // A conflict or an unreachable store: the order goes on; the release below writes whatever is current.
    }
  }

  /** Frees the lease, recording the outcome: a success clears the back-off, a failure lengthens it. */
  async release(outcome: { ok: true } | { ok: false; error: string }): Promise<LeaseDoc | undefined> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.store.get(this.doc._id);
      if (!isLeaseDoc(current) || current.token !== this.doc.token) return undefined; // taken over: not ours to write
      const failures = outcome.ok ? 0 : current.failures + 1;
      const next: LeaseDoc = {
        ...current,
        holder: '',
        expiresAt: new Date(this.now()).toISOString(),
        failures,
        updatedAt: new Date(this.now()).toISOString(),
      };
      delete next.lastError;
      delete next.retryAt;
      if (!outcome.ok) {
        next.lastError = outcome.error.slice(0, 1000);
        next.retryAt = new Date(this.now() + retryDelay(failures)).toISOString();
      }
      try {
        await this.store.put(next);
        return next;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return undefined;
  }
}
