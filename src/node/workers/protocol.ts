// The messages between a node's primary process and its DNS workers (--workers N). Workers cannot open the
// embedded store (LevelDB allows one process), so they read it through the primary: store calls and changes
// feeds go over the IPC channel, with the primary's own probe results and metrics requests alongside.

import type { Change } from '../../store/store.js';
import type { EdgeObservation } from '../../geo/health-docs.js';
import type { GeoIpReload } from '../../geo/geoip.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** The Store methods a worker may call; each is a plain request/response. follow() is its own message pair. */
export const STORE_METHODS = ['get', 'put', 'bulk', 'remove', 'list', 'updateSeq', 'changes', 'getMany', 'putAttachment', 'getAttachment'] as const;
export type StoreMethod = (typeof STORE_METHODS)[number];

export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

export type ToPrimary =
  | { kind: 'store-call'; id: number; method: StoreMethod; args: unknown[] }
  | { kind: 'follow'; id: number; since: string; prefixes?: string[] }
  | { kind: 'unfollow'; id: number }
  /** The worker answers; `ports`: the port of each --dns address, in order (UDP and TCP share it). */
  | { kind: 'ready'; ports: number[] }
  /** A reload done: the GeoIP files it read again. */
  | { kind: 'reloaded'; id: number; geoip: GeoIpReload[] }
  | { kind: 'start-failed'; error: string }
  | { kind: 'metrics'; id: number; metrics: WorkerMetrics }
  /** Sent after each batch of zone changes: the SOA serial every zone is answered with now. */
  | { kind: 'zones-applied'; serials: [string, number][] };

export interface RemoteError {
  name: string;
  message: string;
  /** The store's own errors, with their document id as data: the worker throws the same class again. */
  store?: { kind: 'conflict' | 'not_found'; id: string } | { kind: 'unavailable' | 'full' };
}

export type ToWorker =
  | { kind: 'store-result'; id: number; value: unknown }
  | { kind: 'store-error'; id: number; error: RemoteError }
  | { kind: 'change'; id: number; change: Change }
  | { kind: 'follow-error'; id: number; error: RemoteError }
  /** The primary's probe view: workers never probe, so probes run once per node. */
  | { kind: 'observations'; observations: [string, EdgeObservation][] }
  /** The node's CHAOS TXT health.edgedns. text, which only the primary knows whole. */
  | { kind: 'health'; text: string }
  | { kind: 'metrics-request'; id: number }
  /** SIGHUP reached the primary: apply this log level and read the GeoIP files again. */
  | { kind: 'reload'; id: number; logLevel: string }
  /** The node stops: close the DNS sockets, TCP connections drained for up to drainMs (then the primary disconnects). */
  | { kind: 'drain'; drainMs: number };

export function isMessage<T extends { kind: string }>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}
