// How current the served data is. While the changes feed is connected the data is as fresh as the store's; once it
// drops, the age grows from the moment of the last successful sync. /healthz, the CHAOS TXT health.edgedns. answer
// and the edgedns_store_last_sync_age_seconds metric all read this one object.

import { Counter, Gauge, type Registry } from 'prom-client';

export interface HealthStatus {
  state: 'ok' | 'stale';
  /** Seconds since the data was last known to equal the store's (0 while connected). */
  ageSeconds: number;
  connected: boolean;
  /** ISO time of the last successful sync, if there was one (or the snapshot's, after a start from it). */
  lastSyncAt?: string;
  /** Where the served data came from: the store, or the local snapshot while the store is unreachable. */
  source: 'store' | 'snapshot' | 'none';
}

export class StoreHealth {
  #connected = false;
  #lastSyncAt: number | undefined;
  #source: HealthStatus['source'] = 'none';
  readonly #startedAt: number;
  readonly #disconnects: Counter;

  constructor(
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.#startedAt = now();
    const registers = [registry];
    const age: Gauge = new Gauge({
      name: 'edgedns_store_last_sync_age_seconds',
      help: 'Seconds since the served zone data was last in sync with the store (0 while the changes feed is connected)',
      registers,
      collect: () => age.set(this.status().ageSeconds),
    });
    const connected: Gauge = new Gauge({
      name: 'edgedns_store_connected',
      help: '1 while the changes feed of the store is connected, else 0',
      registers,
      collect: () => connected.set(this.#connected ? 1 : 0),
    });
    this.#disconnects = new Counter({ name: 'edgedns_store_disconnects_total', help: 'Times the store changes feed was lost', registers });
  }

  /** The data now equals the store's and the feed is live. */
  markSynced(): void {
    this.#connected = true;
    this.#lastSyncAt = this.now();
    this.#source = 'store';
  }

  /** The feed is lost; the data keeps the age it had at the last sync. */
  markDown(): void {
    if (this.#connected) {
      this.#disconnects.inc();
      // The data was current up to this moment.
      this.#lastSyncAt = this.now();
    }
    this.#connected = false;
  }

  /** Started from a snapshot whose data was current at `syncedAt` (ms). */
  restoredFrom(syncedAt: number): void {
    this.#lastSyncAt = syncedAt;
    this.#source = 'snapshot';
  }

  /** When the served data was last known current, for the snapshot to carry across a restart. */
  syncedAt(): number | undefined {
    return this.#connected ? this.now() : this.#lastSyncAt;
  }

  status(): HealthStatus {
    if (this.#connected) return { state: 'ok', ageSeconds: 0, connected: true, lastSyncAt: new Date(this.now()).toISOString(), source: this.#source };
    const since = this.#lastSyncAt ?? this.#startedAt;
    const status: HealthStatus = {
      state: 'stale',
      ageSeconds: Math.max(0, Math.floor((this.now() - since) / 1000)),
      connected: false,
      source: this.#source,
    };
    if (this.#lastSyncAt !== undefined) status.lastSyncAt = new Date(this.#lastSyncAt).toISOString();
    return status;
  }

  /** The CHAOS TXT health.edgedns. text: "ok" or "stale <seconds>". */
  text(): string {
    const status = this.status();
    return status.state === 'ok' ? 'ok' : `stale ${status.ageSeconds}`;
  }
}
