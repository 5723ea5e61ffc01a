// Every node probes every edge some pool uses (HTTP status or TCP connect), keeps an EWMA of the round-trip time and
// beside it a steady RTT that moves only on a sustained change (steady-rtt.ts), and an up/down state with hysteresis
// (down after `downAfter` failures in a row, up after `upAfter` successes; an edge never probed counts as up; while an
// edge is in doubt the next probe comes after half an interval), and writes what it sees to its own health document.
// Writes are rate-limited to one per interval, or sooner when a state or a steady RTT changes (at most one a second,
// or one per half interval if that is shorter): 50 nodes × 50 edges at a 10 s interval is 5 small writes a second,
// whatever the number of edges.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Logger } from 'pino';
import { ConflictError, type Store } from '../store/store.js';
import type { EdgeFields } from './edge-docs.js';
import type { GeoState } from './geo-state.js';
import { healthDocId, isHealthDoc, type EdgeObservation, type HealthDoc } from './health-docs.js';
import type { GeoMetrics } from './metrics.js';
import { advanceSteady, type SteadyRtt } from './steady-rtt.js';

export interface ProbeOptions {
  intervalMs: number;
  timeoutMs: number;
  downAfter: number;
  upAfter: number;
}

export const DEFAULT_PROBE_OPTIONS: ProbeOptions = { intervalMs: 10_000, timeoutMs: 2_000, downAfter: 3, upAfter: 2 };

/** Weight of the newest sample in the RTT average. */
const EWMA_ALPHA = 0.3;
/** At most one write a second for changes, or two per interval when probes come more often than every 2 s. */
const MAX_WRITE_GAP_MS = 1_000;

interface EdgeProbeState extends EdgeObservation, SteadyRtt {
  failures: number;
  successes: number;
}

export interface ProbeResult {
  ok: boolean;
  rttMs: number;
  error?: string;
}

/**
 * One probe. An HTTP check's RTT runs from the moment the connection is ready (TCP, and TLS for https) to the
 * response: one round trip plus the server's time, whether the connection is new or reused, so RTTs mean the same
 * at any probe interval and from any observer (a new connection would otherwise count its handshake: twice the path).
 * `observer`: this node's id, sent in the User-Agent so an edge's logs say which node probes it.
 */
export async function probeEdge(edge: EdgeFields, timeoutMs: number, observer?: string): Promise<ProbeResult> {
  const started = performance.now();
  const check = edge.check;
  if (check.type === 'http') return httpProbe(new URL(check.url), check.expectStatus, timeoutMs, observer ? `edgedns-probe (node ${observer})` : 'edgedns-probe');
  if (check.type === 'tcp') {
    const host = check.host ?? edge.ipv4[0] ?? edge.ipv6[0];
    return new Promise((resolve) => {
      const socket = net.connect({ host, port: check.port });
      const done = (result: ProbeResult): void => {
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(timeoutMs, () => done({ ok: false, rttMs: performance.now() - started, error: 'timeout' }));
      socket.once('connect', () => done({ ok: true, rttMs: performance.now() - started }));
      socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, rttMs: performance.now() - started, error: err.code ?? err.message }));
    });
  }
  return { ok: true, rttMs: 0 };
}

function httpProbe(url: URL, expectStatus: number, timeoutMs: number, userAgent: string): Promise<ProbeResult> {
  const started = performance.now();
  let ready = started;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: 'GET', headers: { 'user-agent': userAgent } });
    const timer = setTimeout(() => {
      done({ ok: false, rttMs: performance.now() - started, error: 'timeout' });
      request.destroy();
    }, timeoutMs);
    request.once('socket', (socket) => {
      // a new connection is ready once connected (and, for https, once TLS is set up); a reused one at once
      if (socket.connecting) socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => (ready = performance.now()));
      else ready = performance.now();
    });
    request.once('response', (response) => {
      const rttMs = performance.now() - ready;
      // the status is the answer; a health URL that serves a whole page is not read each round
      response.destroy();
      done(response.statusCode === expectStatus ? { ok: true, rttMs } : { ok: false, rttMs, error: `status ${response.statusCode}` });
    });
    request.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, rttMs: performance.now() - started, error: err.code ?? err.message }));
    request.end();
  });
}

export class Prober {
  private readonly states = new Map<string, EdgeProbeState>();
  private timer: NodeJS.Timeout | undefined;
  private writeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private rev: string | undefined;
  private lastWrite = 0;
  private dirty = false;
  /** Steady RTTs and averages this node published before it (re)started: see resume(). */
  private resumed: Promise<void> | undefined;

  constructor(
    private readonly options: {
      store: Store;
      state: GeoState;
      nodeId: string;
      logger: Logger;
      metrics: GeoMetrics;
      probe: ProbeOptions;
    },
  ) {}

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      const began = Date.now();
      this.running = this.resume()
        .then(() => this.round())
        .catch((err: unknown) => this.options.logger.error({ err }, 'probe round failed'))
        .finally(() => {
          this.running = undefined;
          if (this.stopped) return;
          // An edge in doubt (a failure while up, a success while down) is probed again after half an interval,
          // so a dead edge is out within 1 + 2 × ½ = 2 intervals of dying, well inside the promised 3.
          const { intervalMs } = this.options.probe;
          const every = this.inDoubt() ? intervalMs / 2 : intervalMs;
          this.timer = setTimeout(tick, Math.max(0, every - (Date.now() - began)));
          this.timer.unref();
        });
    };
    tick();
  }

  private inDoubt(): boolean {
    for (const s of this.states.values()) if ((s.up && s.failures > 0) || (!s.up && s.successes > 0)) return true;
    return false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.writeTimer) clearTimeout(this.writeTimer);
    await this.running;
  }

  /**
   * Picks up the steady RTTs and averages of this node's own health document, once: a node that restarts goes on
   * publishing what it published, instead of new first measurements that would move every node's view.
   */
  resume(): Promise<void> {
    this.resumed ??= (async () => {
      const { store, nodeId, logger } = this.options;
      try {
        const doc = await store.get(healthDocId(nodeId));
        if (!doc || !isHealthDoc(doc)) return;
        this.rev = doc._rev;
        for (const [name, seen] of Object.entries(doc.edges)) {
          if (this.states.has(name) || typeof seen?.up !== 'boolean') continue;
          const steady = typeof seen.steadyRttMs === 'number' ? seen.steadyRttMs : seen.rttMs;
          if (typeof steady !== 'number' || !Number.isFinite(steady)) continue;
          this.states.set(name, { up: true, checkedAt: 0, failures: 0, successes: 0, steadyRttMs: steady, ...(typeof seen.rttMs === 'number' ? { rttMs: seen.rttMs } : {}) });
        }
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'cannot read this node\'s health document; steady RTTs start from new measurements');
      }
    })();
    return this.resumed;
  }

  /** One probe of every edge in use; then the new view goes to the snapshot and, rate-limited, to the store. */
  async round(): Promise<void> {
    const { state, probe, metrics, logger, nodeId } = this.options;
    const edges = state.probedEdges().filter((e) => e.check.type !== 'none');
    const names = new Set(edges.map((e) => e.name));
    for (const name of this.states.keys()) if (!names.has(name)) this.states.delete(name);
    let changed = false;
    await Promise.all(
      edges.map(async (edge) => {
        const result = await probeEdge(edge, probe.timeoutMs, nodeId);
        if (this.stopped) return;
        let s = this.states.get(edge.name);
        if (!s) {
          s = { up: true, checkedAt: 0, failures: 0, successes: 0 };
          this.states.set(edge.name, s);
        }
        s.checkedAt = Date.now();
        let transitioned = false;
        metrics.probes.labels(edge.name, result.ok ? 'ok' : 'fail').inc();
        if (result.ok) {
          s.successes++;
          s.failures = 0;
          s.rttMs = s.rttMs === undefined ? result.rttMs : EWMA_ALPHA * result.rttMs + (1 - EWMA_ALPHA) * s.rttMs;
          // a steady RTT that moves is a change others should see soon, as a health change is
          const before = s.steadyRttMs;
          if (advanceSteady(s, result.rttMs, state.marginFor(edge.name))) {
            changed = true;
            if (before !== undefined) metrics.steadyMoves.labels(edge.name, (s.steadyRttMs as number) > before ? 'up' : 'down').inc();
          }
          if (!s.up && s.successes >= probe.upAfter) {
            s.up = true;
            transitioned = true;
          }
        } else {
          s.failures++;
          s.successes = 0;
          if (s.up && s.failures >= probe.downAfter) {
            s.up = false;
            transitioned = true;
          }
        }
        if (transitioned) {
          changed = true;
          metrics.transitions.labels(edge.name, s.up ? 'up' : 'down').inc();
        }
        if (!result.ok && s.failures <= probe.downAfter) logger.debug({ edge: edge.name, error: result.error, failures: s.failures }, 'probe failed');
        if (s.rttMs !== undefined) metrics.probeRtt.labels(edge.name, nodeId).set(s.rttMs / 1000);
        metrics.probeUp.labels(edge.name, nodeId).set(s.up ? 1 : 0);
      }),
    );
    if (this.stopped) return;
    for (const [name, s] of this.states) {
      const seen = state.ownObservation(name);
      if (seen && seen.up !== s.up) logger.info({ edge: name, up: s.up, observer: nodeId }, s.up ? 'edge is up again' : 'edge is down');
    }
    state.setOwnObservations(new Map([...this.states].map(([name, s]) => [name, observation(s)])));
    this.dirty = true;
    const now = Date.now();
    const gap = Math.min(MAX_WRITE_GAP_MS, probe.intervalMs / 2);
    if (now - this.lastWrite >= probe.intervalMs || (changed && now - this.lastWrite >= gap)) await this.write();
    else if (changed && !this.writeTimer) {
      this.writeTimer = setTimeout(() => {
        this.writeTimer = undefined;
        void this.write();
      }, gap - (now - this.lastWrite));
      this.writeTimer.unref();
    }
  }

  private async write(): Promise<void> {
    if (!this.dirty || this.stopped) return;
    const { store, nodeId, probe, metrics, logger } = this.options;
    this.dirty = false;
    this.lastWrite = Date.now();
    const edges: Record<string, EdgeObservation> = {};
    for (const [name, s] of this.states) if (s.checkedAt > 0) edges[name] = observation(s);
    const location = this.options.state.location;
    const doc: HealthDoc = { _id: healthDocId(nodeId), type: 'health', node: nodeId, updatedAt: this.lastWrite, intervalMs: probe.intervalMs, ...(location ? { location } : {}), edges };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (this.rev === undefined) this.rev = (await store.get(doc._id))?._rev;
        const written = await store.put({ ...doc, ...(this.rev ? { _rev: this.rev } : {}) });
        this.rev = written.rev;
        metrics.healthWrites.labels('ok').inc();
        return;
      } catch (err) {
        this.rev = undefined;
        if (err instanceof ConflictError && attempt === 0) continue;
        metrics.healthWrites.labels('failed').inc();
        logger.warn({ err: (err as Error).message }, 'cannot write this node\'s health document; other nodes see stale observations');
        return;
      }
    }
  }
}

/**
 * What this node says of an edge, in memory and in its document alike (the same rounding), so that its own vote and
 * the vote others read from its document are the same numbers.
 */
function observation(s: EdgeProbeState): EdgeObservation {
  return {
    up: s.up,
    checkedAt: s.checkedAt,
    ...(s.rttMs !== undefined ? { rttMs: Math.round(s.rttMs * 1000) / 1000 } : {}),
    ...(s.steadyRttMs !== undefined ? { steadyRttMs: Math.round(s.steadyRttMs * 1000) / 1000 } : {}),
  };
}
