// How current and how healthy the served data is. Each index fed by the store (zones, geo, pages, keys) keeps a
// SyncTracker: in sync while its changes feed is connected, else aging from its last sync, and "from local state"
// when it was restored from disk at start and has not reached the store since. Other parts add problems: the
// replication watchdog when this node is not receiving (stale), the store when it cannot write (degraded).
// /healthz, the CHAOS TXT health.edgedns. answer and the metrics all read this one object.

import { Counter, Gauge, type Registry } from 'prom-client';

export type HealthState = 'ok' | 'stale' | 'degraded';

export interface HealthStatus {
  /** ok; stale: the data may lag the cluster (store unreachable, not receiving); degraded: the store fails writes. */
  state: HealthState;
  /** Seconds since the data was last known to equal the cluster's (0 while in sync). */
  ageSeconds: number;
  /** Every index follows its store's changes feed. */
  connected: boolean;
  /** ISO time of the oldest last sync among the indexes not in sync (or now, when all are). */
  lastSyncAt?: string;
  /** Where the served data came from: the store, or local state on disk (the snapshot) while the store is away. */
  source: 'store' | 'snapshot' | 'none';
  /** Why the state is not ok, one line each, for people. */
  reasons: string[];
}

/** Whether one index is in sync with the store, and where its data came from. */
export class SyncTracker {
  #connected = false;
  #lastSyncAt: number | undefined;
  #source: HealthStatus['source'] = 'none';

  constructor(
    readonly name: string,
    private readonly now: () => number,
    private readonly onDown: () => void = () => undefined,
  ) {}

  /** The data now equals the store's and the feed is live. */
  markSynced(): void {
    this.#connected = true;
    this.#lastSyncAt = this.now();
    this.#source = 'store';
  }

  /** The feed is lost; the data keeps the age it had at the last sync. */
  markDown(): void {
    if (this.#connected) {
      this.onDown();
      this.#lastSyncAt = this.now();
    }
    this.#connected = false;
  }

  /** Started from local state whose data was current at `syncedAt` (ms). */
  restoredFrom(syncedAt: number): void {
    this.#lastSyncAt = syncedAt;
    this.#source = 'snapshot';
  }

  /** When the served data was last known current, for local state to carry across a restart. */
  syncedAt(): number | undefined {
    return this.#connected ? this.now() : this.#lastSyncAt;
  }

  get connected(): boolean {
    return this.#connected;
  }

  get source(): HealthStatus['source'] {
    return this.#source;
  }

  /** Serving what was restored from disk, not yet in sync with the store. */
  get fromLocalState(): boolean {
    return !this.#connected && this.#source === 'snapshot';
  }

  lastSync(): number | undefined {
    return this.#lastSyncAt;
  }
}

interface Problem {
  text: string;
  since: number;
}

/** The words after "stale <age>" in health.edgedns., by what makes the data stale. */
type StaleKind = 'local-state' | 'store-unreachable' | 'not-receiving' | 'upstream-unreachable' | 'version-waiting';

export class StoreHealth {
  readonly #startedAt: number;
  readonly #disconnects: Counter;
  readonly #trackers = new Map<string, SyncTracker>();
  readonly #stale = new Map<string, Problem & { kind: StaleKind }>();
  readonly #degraded = new Map<string, Problem>();
  readonly #zones: SyncTracker;

  constructor(
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.#startedAt = now();
    const registers = [registry];
    const age: Gauge = new Gauge({
      name: 'edgedns_store_last_sync_age_seconds',
      help: 'Seconds since the served data was last known in sync with the cluster (0 while in sync)',
      registers,
      collect: () => age.set(this.status().ageSeconds),
    });
    const connected: Gauge = new Gauge({
      name: 'edgedns_store_connected',
      help: '1 while every index follows the store changes feed, else 0',
      registers,
      collect: () => connected.set(this.status().connected ? 1 : 0),
    });
    this.#disconnects = new Counter({ name: 'edgedns_store_disconnects_total', help: 'Times the zone changes feed was lost', registers });
    const local: Gauge<'index'> = new Gauge({
      name: 'edgedns_local_state_serving',
      help: 'Per index (zones, geo, pages, keys): 1 while it serves what local state on disk restored, not yet in sync with the store',
      labelNames: ['index'],
      registers,
      collect: () => {
        for (const tracker of this.#trackers.values()) local.labels(tracker.name).set(tracker.fromLocalState ? 1 : 0);
      },
    });
    const state: Gauge<'state'> = new Gauge({
      name: 'edgedns_health_state',
      help: 'The node health: 1 for the current state (ok, stale, degraded)',
      labelNames: ['state'],
      registers,
      collect: () => {
        const current = this.status().state;
        for (const s of ['ok', 'stale', 'degraded'] as const) state.labels(s).set(s === current ? 1 : 0);
      },
    });
    this.#zones = this.index('zones', () => this.#disconnects.inc());
  }

  /** The tracker of one index ("zones", "geo", "pages", "keys"), created on first use. */
  index(name: string, onDown?: () => void): SyncTracker {
    let tracker = this.#trackers.get(name);
    if (!tracker) {
      tracker = new SyncTracker(name, this.now, onDown);
      this.#trackers.set(name, tracker);
    }
    return tracker;
  }

  // The zone index's tracker, as methods of its own: zone-sync.ts reports through these.
  markSynced(): void {
    this.#zones.markSynced();
  }
  markDown(): void {
    this.#zones.markDown();
  }
  restoredFrom(syncedAt: number): void {
    this.#zones.restoredFrom(syncedAt);
  }
  syncedAt(): number | undefined {
    return this.#zones.syncedAt();
  }

  /**
   * Sets (or, with undefined, clears) a reason the data is stale although the indexes follow the store: this node
   * is not receiving from a peer, its upstream is away, a zone holds back a version that does not complete. `since`
   * is when the data stopped being current.
   */
  setStale(key: string, problem: { text: string; kind: Exclude<StaleKind, 'local-state' | 'store-unreachable'>; since?: number } | undefined): void {
    if (!problem) {
      this.#stale.delete(key);
      return;
    }
    const before = this.#stale.get(key);
    this.#stale.set(key, { text: problem.text, kind: problem.kind, since: problem.since ?? before?.since ?? this.now() });
  }

  /** Sets (or clears) a reason the node is degraded: its store refuses writes (disk full, cannot open). */
  setDegraded(key: string, problem: string | undefined): void {
    if (problem === undefined) this.#degraded.delete(key);
    else this.#degraded.set(key, { text: problem, since: this.#degraded.get(key)?.since ?? this.now() });
  }

  status(): HealthStatus {
    const now = this.now();
    const trackers = [...this.#trackers.values()];
    const behind = trackers.filter((t) => !t.connected);
    const connected = trackers.length > 0 && behind.length === 0;
    const reasons: string[] = [...this.#degraded.values()].map((p) => p.text);
    let oldest: number | undefined;
    for (const tracker of behind) {
      const since = tracker.lastSync() ?? this.#startedAt;
      oldest = oldest === undefined ? since : Math.min(oldest, since);
      const at = tracker.lastSync() === undefined ? 'never in sync since start' : `in sync ${Math.max(0, Math.floor((now - since) / 1000))} s ago`;
      reasons.push(tracker.fromLocalState ? `${tracker.name}: served from local state (${at}); the store is unreachable` : `${tracker.name}: the store is unreachable (${at})`);
    }
    for (const problem of this.#stale.values()) {
      oldest = oldest === undefined ? problem.since : Math.min(oldest, problem.since);
      reasons.push(problem.text);
    }
    const source = trackers.some((t) => t.fromLocalState) ? 'snapshot' : trackers.some((t) => t.source === 'store') ? 'store' : 'none';
    const state: HealthState = this.#degraded.size > 0 ? 'degraded' : oldest !== undefined ? 'stale' : 'ok';
    const status: HealthStatus = { state, ageSeconds: oldest === undefined ? 0 : Math.max(0, Math.floor((now - oldest) / 1000)), connected, source, reasons };
    if (oldest !== undefined) status.lastSyncAt = new Date(oldest).toISOString();
    else if (connected) status.lastSyncAt = new Date(now).toISOString();
    return status;
  }

  /** The CHAOS TXT health.edgedns. text: "ok", "stale <seconds> <why>" or "degraded <reason>". */
  text(): string {
    const status = this.status();
    if (status.state === 'ok') return 'ok';
    if (status.state === 'degraded') return `degraded ${[...this.#degraded.values()][0]?.text ?? ''}`.slice(0, 250).trim();
    return `stale ${status.ageSeconds} ${this.#staleKind()}`;
  }

  #staleKind(): StaleKind {
    const trackers = [...this.#trackers.values()];
    if (trackers.some((t) => t.fromLocalState)) return 'local-state';
    if (trackers.some((t) => !t.connected)) return 'store-unreachable';
    return [...this.#stale.values()][0]?.kind ?? 'not-receiving';
  }
}
