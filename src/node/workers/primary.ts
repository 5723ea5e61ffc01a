// --workers N: the node's primary process forks N DNS workers that share its DNS sockets (Node's cluster module
// hands every worker the same UDP socket and TCP listener; Node 20's dgram has no SO_REUSEPORT). The primary keeps
// what must exist once per node: the store (LevelDB allows one process), the API, the probes and the asset server.
// Workers read the store through it (ipc-store.ts), get its probe view, and report the zone serials they serve so
// API writes can wait for all of them. A worker that dies is started again, with a growing delay.

import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, type Registry } from 'prom-client';
import type { ServedZones } from '../../api/wait-served.js';
import type { NodeConfig } from '../config.js';
import type { GeoState } from '../../geo/geo-state.js';
import type { Store } from '../../store/store.js';
import type { Catalog } from '../../zone/catalog.js';
import type { ZoneSync } from '../../zone/zone-sync.js';
import { mergeWorkerMetrics } from './worker-metrics.js';
import { isMessage, type ToPrimary, type ToWorker, type WorkerMetrics } from './protocol.js';
import { StoreServer } from './store-server.js';

export interface WorkerPoolOptions {
  count: number;
  config: NodeConfig;
  store: Store;
  /** The node's health text (CHAOS TXT health.edgedns.): the primary knows it whole, workers answer with it. */
  healthText?: () => string;
  registry: Registry;
  logger: Logger;
  /** The primary's geo state: its probe view goes to every worker. */
  state: GeoState;
  catalog: Catalog;
  sync: ZoneSync;
}

export interface WorkerPool extends ServedZones {
  /** The DNS port of each --dns address every worker answers on (the one asked for, or the one the system gave for 0). */
  ports: number[];
  /** The primary's metrics and the workers' query counters together, in the Prometheus text format. */
  metrics(): Promise<string>;
  /** SIGHUP: every worker applies the log level and reads its GeoIP files again; how many did so in time. */
  reload(logLevel: string): Promise<{ reloaded: number; of: number }>;
  /** Stops the workers; `drainMs`: each first closes its DNS sockets, draining TCP connections that long. */
  close(drainMs?: number): Promise<void>;
}

/** A worker still loading a large store or GeoIP database is given this long to start answering. */
const START_TIMEOUT_MS = 120_000;
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before dying restarts without delay growth. */
const STABLE_MS = 60_000;
const METRICS_TIMEOUT_MS = 2_000;
const RELOAD_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const HEALTH_EVERY_MS = 1_000;

interface Slot {
  index: number;
  worker: Worker;
  server: StoreServer;
  ready: boolean;
  startedAt: number;
  serials: Map<string, number>;
}

function workerScript(): string {
  // under the test runner this module is TypeScript, compiled on load; the worker is loaded the same way
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`./worker-main${ext}`, import.meta.url));
}

export async function startWorkers(options: WorkerPoolOptions): Promise<WorkerPool> {
  const { count, config, store, registry, logger, state, catalog, sync } = options;
  const registers = [registry];
  const restarts = new Counter({ name: 'edgedns_workers_restarts_total', help: 'DNS worker processes started again after they exited', registers });
  const slots = new Map<number, Slot>();
  new Gauge({ name: 'edgedns_workers_ready', help: 'DNS worker processes answering queries', registers, collect() { this.set([...slots.values()].filter((s) => s.ready).length); } });
  const appliedListeners = new Set<() => void>();
  const metricsRequests = new Map<number, (metrics: WorkerMetrics) => void>();
  const reloadRequests = new Map<number, () => void>();
  let nextRequest = 1;
  let closing = false;
  let ports = config.dns.map((a) => a.port);
  let restartDelay = RESTART_MIN_MS;

  cluster.setupPrimary({ exec: workerScript(), args: [], serialization: 'advanced' });

  const observations = (): ToWorker => ({ kind: 'observations', observations: [...state.ownObservations()] });
  let lastObservations = state.ownObservations();
  const stopWatchingState = state.onChange(() => {
    const own = state.ownObservations();
    if (own === lastObservations) return;
    lastObservations = own;
    const message = observations();
    for (const slot of slots.values()) send(slot, message);
  });
  const stopWatchingSync = sync.onApplied(() => notifyApplied());
  // The health text changes with the data's age: sent to every worker when it differs, checked every second.
  let lastHealth: string | undefined;
  const healthTimer = setInterval(() => {
    const text = options.healthText?.();
    if (text === undefined || text === lastHealth) return;
    lastHealth = text;
    for (const slot of slots.values()) send(slot, { kind: 'health', text });
  }, HEALTH_EVERY_MS);
  healthTimer.unref();

  function notifyApplied(): void {
    for (const listener of [...appliedListeners]) listener();
  }

  function send(slot: Slot, message: ToWorker): void {
    if (slot.worker.isConnected()) slot.worker.send(message);
  }

  function fork(index: number): Promise<Slot> {
    const worker = cluster.fork({
      // Port 0 stays 0: the cluster module keys shared sockets by the address asked for, so every worker asking for
      // port 0 gets the one socket the first one bound (asking for the port it got would try to bind it again).
      EDGEDNS_WORKER_CONFIG: JSON.stringify(config),
      EDGEDNS_WORKER_INDEX: String(index),
      EDGEDNS_WORKER_STORE: store.description,
    });
    const slot: Slot = { index, worker, server: new StoreServer(store, (message) => send(slot, message)), ready: false, startedAt: Date.now(), serials: new Map() };
    slots.set(index, slot);
    send(slot, observations());
    if (lastHealth !== undefined) send(slot, { kind: 'health', text: lastHealth });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`DNS worker ${index} did not start answering within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        worker.kill('SIGKILL');
        reject(err);
      };
      worker.on('message', (message: unknown) => {
        if (!isMessage<ToPrimary>(message) || slot.server.handle(message)) return;
        switch (message.kind) {
          case 'ready':
            clearTimeout(timer);
            slot.ready = true;
            ports = message.ports;
            logger.info({ worker: index, pid: worker.process.pid }, 'DNS worker answering');
            resolve(slot);
            return;
          case 'start-failed':
            fail(new Error(`DNS worker ${index} could not start: ${message.error}`));
            return;
          case 'zones-applied':
            slot.serials = new Map(message.serials);
            notifyApplied();
            return;
          case 'metrics':
            metricsRequests.get(message.id)?.(message.metrics);
            return;
          case 'reloaded':
            reloadRequests.get(message.id)?.();
            return;
          default:
            return;
        }
      });
      worker.on('exit', (code, signal) => {
        clearTimeout(timer);
        void slot.server.close();
        if (slots.get(index) === slot) slots.delete(index);
        notifyApplied(); // a wait must not hang on a worker that is gone
        if (!slot.ready) return reject(new Error(`DNS worker ${index} exited (${signal ?? code}) before answering`));
        if (closing) return;
        if (Date.now() - slot.startedAt > STABLE_MS) restartDelay = RESTART_MIN_MS;
        const delay = restartDelay;
        restartDelay = Math.min(restartDelay * 2, RESTART_MAX_MS);
        logger.error({ worker: index, code, signal, restartInMs: delay }, 'DNS worker exited; starting it again');
        setTimeout(() => {
          if (closing) return;
          restarts.inc();
          fork(index).catch((err: Error) => logger.error({ worker: index, err: err.message }, 'DNS worker failed to start again'));
        }, delay).unref();
      });
    });
  }

  async function stop(drainMs?: number): Promise<void> {
    closing = true;
    clearInterval(healthTimer);
    stopWatchingState();
    stopWatchingSync();
    await Promise.all(
      [...slots.values()].map(
        (slot) =>
          new Promise<void>((resolve) => {
            if (slot.worker.isDead()) return resolve();
            const timer = setTimeout(() => slot.worker.kill('SIGKILL'), STOP_TIMEOUT_MS + (drainMs ?? 0));
            slot.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            // SIGTERM: the worker drains its sockets and exits; else it closes them and exits when its channel goes
            if (drainMs !== undefined) send(slot, { kind: 'drain', drainMs });
            else slot.worker.disconnect();
          }),
      ),
    );
    await Promise.all([...slots.values()].map((slot) => slot.server.close()));
  }

  try {
    // With port 0 the first worker binds the socket the others then share, and tells the port.
    if (ports.includes(0)) await fork(1);
    await Promise.all(Array.from({ length: count }, (_, i) => i + 1).filter((i) => !slots.has(i)).map((i) => fork(i)));
  } catch (err) {
    await stop();
    throw err;
  }

  function requestMetrics(slot: Slot): Promise<WorkerMetrics | undefined> {
    const id = nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        metricsRequests.delete(id);
        logger.debug({ worker: slot.index }, 'DNS worker did not send its metrics in time');
        resolve(undefined);
      }, METRICS_TIMEOUT_MS);
      metricsRequests.set(id, (metrics) => {
        clearTimeout(timer);
        metricsRequests.delete(id);
        resolve(metrics);
      });
      send(slot, { kind: 'metrics-request', id });
    });
  }

  function requestReload(slot: Slot, logLevel: string): Promise<boolean> {
    const id = nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        reloadRequests.delete(id);
        logger.warn({ worker: slot.index }, 'DNS worker did not confirm the reload in time');
        resolve(false);
      }, RELOAD_TIMEOUT_MS);
      reloadRequests.set(id, () => {
        clearTimeout(timer);
        reloadRequests.delete(id);
        resolve(true);
      });
      send(slot, { kind: 'reload', id, logLevel });
    });
  }

  return {
    ports,
    onApplied: (listener) => {
      appliedListeners.add(listener);
      return () => appliedListeners.delete(listener);
    },
    everywhere: (zone, accept) => accept(catalog.get(zone)?.soaSerial) && [...slots.values()].every((slot) => !slot.ready || accept(slot.serials.get(zone))),
    metrics: async () => {
      const ready = [...slots.values()].filter((s) => s.ready);
      const replies = await Promise.all(ready.map(async (slot) => ({ index: slot.index, metrics: await requestMetrics(slot) })));
      const merged = mergeWorkerMetrics(await registry.getMetricsAsJSON(), replies.filter((r): r is { index: number; metrics: WorkerMetrics } => r.metrics !== undefined));
      return AggregatorRegistry.aggregate(merged).metrics();
    },
    reload: async (logLevel) => {
      const ready = [...slots.values()].filter((s) => s.ready);
      const done = await Promise.all(ready.map((slot) => requestReload(slot, logLevel)));
      return { reloaded: done.filter(Boolean).length, of: ready.length };
    },
    close: stop,
  };
}
