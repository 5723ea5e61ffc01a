// Every node probes every edge some pool uses (HTTP status or TCP connect), keeps an EWMA of the round-trip time and
// beside it a steady RTT that moves only on a sustained change (steady-rtt.ts), and an up/down state with hysteresis
// (down after `downAfter` failures in a row, up after `upAfter` successes; an edge never probed counts as up; while an
// edge is in doubt the next probe comes after half an interval), and hands what it sees to the health writer
// (health-writer.ts), which writes it when a state or a steady RTT changed, else at the heartbeat. A restarted node
// starts from its own last health document (kept in local state): its states, and the steady RTTs it published.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Logger } from 'pino';
import type { EdgeFields } from './edge-docs.js';
import type { GeoState } from './geo-state.js';
import type { EdgeObservation } from './health-docs.js';
import type { HealthWriter } from './health-writer.js';
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
  private running: Promise<void> | undefined;
  private stopped = false;
  private resumed = false;

  constructor(
    private readonly options: {
      state: GeoState;
      nodeId: string;
      logger: Logger;
      metrics: GeoMetrics;
      probe: ProbeOptions;
      /** Where observations go; none: they stay in this node's memory. */
      writer?: HealthWriter;
    },
  ) {}

  start(): void {
    this.resume();
    const tick = (): void => {
      if (this.stopped) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      const began = Date.now();
      this.running = this.round()
        .catch((err: unknown) => this.options.logger.error({ err }, 'probe round failed'))
        .finally(() => {
          this.running = undefined;
          if (this.stopped) return;
          // An edge in doubt (a failure while up, a success while down) is probed again after half an interval,
          // so a dead edge is out within 1 + 2 × ½ = 2 intervals of dying, well inside the promised 3. An edge a
          // pool took in during the round is probed at once.
          const { intervalMs } = this.options.probe;
          const every = this.unprobed() ? 0 : this.inDoubt() ? intervalMs / 2 : intervalMs;
          this.timer = setTimeout(tick, Math.max(0, every - (Date.now() - began)));
          this.timer.unref();
        });
    };
    // An edge that a pool has just taken in counts as far until this node has measured it (shared-latency.ts):
    // it is probed now, not up to an interval later.
    this.unsubscribe = this.options.state.onChange(() => {
      if (!this.running && !this.stopped && this.unprobed()) tick();
    });
    tick();
  }

  private unsubscribe: (() => void) | undefined;

  /** Some edge a pool uses has a check and no probe result of this node yet. */
  private unprobed(): boolean {
    return this.options.state.probedEdges().some((e) => e.check.type !== 'none' && !this.states.has(e.name));
  }

  /**
   * Picks up this node's own last health document (from the store, or local state while it is away), once: a node
   * that restarts keeps what it knew of each edge instead of "everything up", and goes on publishing the steady RTTs
   * it published instead of new first measurements that would move every node's view.
   */
  resume(): void {
    if (this.resumed) return;
    this.resumed = true;
    const own = this.options.state.health.get(this.options.nodeId);
    if (!own || this.states.size > 0) return;
    for (const [name, seen] of Object.entries(own.edges)) {
      if (typeof seen?.up !== 'boolean') continue;
      const rttMs = finiteOrUndefined(seen.rttMs);
      const steadyRttMs = finiteOrUndefined(seen.steadyRttMs) ?? rttMs;
      const checkedAt = finiteOrUndefined(seen.checkedAt) ?? 0;
      this.states.set(name, { up: seen.up, checkedAt, failures: 0, successes: 0, ...(rttMs !== undefined ? { rttMs } : {}), ...(steadyRttMs !== undefined ? { steadyRttMs } : {}) });
    }
    if (this.states.size > 0) this.options.state.setOwnObservations(this.observations());
  }

  private inDoubt(): boolean {
    for (const s of this.states.values()) if ((s.up && s.failures > 0) || (!s.up && s.successes > 0)) return true;
    return false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private observations(): Map<string, EdgeObservation> {
    return new Map([...this.states].map(([name, s]) => [name, observation(s)]));
  }

  /** One probe of every edge in use; then the new view goes to the snapshot and to the health writer. */
  async round(): Promise<void> {
    const { state, probe, metrics, logger, nodeId } = this.options;
    const edges = state.probedEdges().filter((e) => e.check.type !== 'none');
    const names = new Set(edges.map((e) => e.name));
    for (const name of this.states.keys()) if (!names.has(name)) this.states.delete(name);
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
          // a steady RTT that moves is news for the other nodes, as a health change is (the writer sends it soon)
          const before = s.steadyRttMs;
          if (advanceSteady(s, result.rttMs, state.marginFor(edge.name)) && before !== undefined) {
            metrics.steadyMoves.labels(edge.name, (s.steadyRttMs as number) > before ? 'up' : 'down').inc();
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
        if (transitioned) metrics.transitions.labels(edge.name, s.up ? 'up' : 'down').inc();
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
    const observations = this.observations();
    state.setOwnObservations(observations);
    const report: Record<string, EdgeObservation> = {};
    for (const [name, o] of observations) if (o.checkedAt > 0) report[name] = o;
    this.options.writer?.setEdges(report);
  }
}

function finiteOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
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
