// Writes this node's health document (`health/<node id>`): its view of the edges (probes.ts) and of its replication
// links (cluster/watchdog.ts). A write happens when something worth telling changed (an edge up or down, a steady
// RTT that moved, a link that stalled or recovered), at most one a second (or one per half probe interval when that
// is shorter, so a fast-probing node tells a change within half an interval), and otherwise only at the heartbeat.
// The RTT averages ride along: every node steers by the steady RTTs (steady-rtt.ts, shared-latency.ts), which move
// only on a sustained change, while averages jitter all the time. So a mesh where nothing changes writes one small
// document per node per heartbeat instead of one per probe interval, and each write replicates to every node.

import type { Logger } from 'pino';
import { publishedState, type LinkReport } from '../cluster/link-report.js';
import { ConflictError, type Store } from '../store/store.js';
import { healthDocId, type EdgeObservation, type HealthDoc, type ObserverLocation } from './health-docs.js';
import type { GeoMetrics } from './metrics.js';

export interface HealthWriterOptions {
  store: Store;
  nodeId: string;
  logger: Logger;
  metrics: GeoMetrics;
  /** The probe interval, written into the document (how fresh its observations are). */
  intervalMs: number;
  /** Rewritten at least this often while there is anything to say (ms), or `auto` (autoHeartbeatMs). */
  heartbeatMs: number | 'auto';
  /** How many nodes this one knows, itself included (their health documents): what `auto` follows. */
  nodes?: () => number;
  /** Write (and heartbeat) even with no edges to report: a node of a CouchDB cluster tells its peers it is alive. */
  always: boolean;
  /** Minimum time between two writes (default 1 s). */
  minGapMs?: number;
  /** Where this node is (--location), published so every reader can take its distance out of its RTTs. */
  location?: ObserverLocation;
}

/** A write that failed is tried again this soon. */
const RETRY_MS = 5_000;
const AUTO_STEP_MS = 60_000;
const AUTO_MAX_MS = 600_000;

/**
 * The `auto` heartbeat: a minute for each other node, from one to ten minutes. Every heartbeat is a write that all
 * n(n-1) replications of a full mesh carry, and one that comes just before a write makes that write wait
 * (bench:mesh-latency: seven nodes at 60 s put the p95 of a write answered everywhere at 1.0-1.2 s), so a bigger mesh
 * beats slower, about one heartbeat a minute in all. A small one keeps a short heartbeat where it matters most: with
 * two nodes, a node that died keeps voting its own edge up for a heartbeat, and no third observer outvotes it.
 */
export function autoHeartbeatMs(nodes: number): number {
  return Math.min(AUTO_MAX_MS, Math.max(AUTO_STEP_MS, AUTO_STEP_MS * (nodes - 1)));
}

/**
 * Each heartbeat comes after a random 75-100 % of --heartbeat: nodes started together would otherwise all write at
 * the same moment every minute, and seven documents at once make a replication storm that slowed the writes caught
 * in it (bench:mesh-latency) to 2.5 s. Never later than the heartbeat, which peers count on (2.5 heartbeats).
 */
function heartbeatDelay(heartbeatMs: number): number {
  return Math.round(heartbeatMs * (0.75 + 0.25 * Math.random()));
}

export class HealthWriter {
  private edges: Record<string, EdgeObservation> = {};
  private links: LinkReport[] = [];
  private written: { edges: Record<string, EdgeObservation>; links: Map<string, string> } | undefined;
  private rev: string | undefined;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private started = false;

  constructor(private readonly options: HealthWriterOptions) {}

  /**
   * The heartbeat in force now. Each document says the one it was written with, and the next heartbeat comes within
   * it: readers time a peer's silence and its votes by what its latest document promised.
   */
  get heartbeatMs(): number {
    const { heartbeatMs, nodes } = this.options;
    return heartbeatMs === 'auto' ? autoHeartbeatMs(nodes?.() ?? 1) : heartbeatMs;
  }

  /** Starts the heartbeat (a first write comes with the first news, or at once for a cluster node). */
  start(): void {
    this.started = true;
    this.schedule(this.options.always ? 0 : heartbeatDelay(this.heartbeatMs));
  }

  setEdges(edges: Record<string, EdgeObservation>): void {
    this.edges = edges;
    if (this.edgesChanged()) this.soon();
  }

  setLinks(links: LinkReport[]): void {
    // Behind but moving is written as caught up: every write leaves links behind for a moment (this document's own
    // write too), and telling the mesh about each of those moments would be writes without end.
    this.links = links.map((l) => (l.state === 'behind' ? { ...l, state: 'caught-up', pending: 0 } : l));
    if (this.linksChanged()) this.soon();
  }

  /** Writes now what is waiting for its turn (tests; shutdown does not need it). */
  async flush(): Promise<void> {
    await this.writing;
    if (!this.timer || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.afterWrite(await this.write());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.writing;
  }

  private edgesChanged(): boolean {
    const before = this.written?.edges;
    if (!before) return Object.keys(this.edges).length > 0;
    const names = Object.keys(this.edges);
    if (names.length !== Object.keys(before).length) return true;
    for (const name of names) {
      const now = this.edges[name];
      const then = before[name];
      if (!then || now.up !== then.up || now.steadyRttMs !== then.steadyRttMs) return true;
    }
    return false;
  }

  private linksChanged(): boolean {
    const before = this.written?.links;
    if (!before) return this.links.length > 0;
    if (before.size !== this.links.length) return true;
    return this.links.some((l) => before.get(l.id) !== publishedState(l.state));
  }

  /** A write as soon as the minimum gap allows. */
  private soon(): void {
    if (!this.started) return;
    this.schedule(Math.max(0, this.lastWrite + (this.options.minGapMs ?? 1000) - Date.now()));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.write().then((written) => {
        this.writing = undefined;
        this.afterWrite(written);
      });
    }, delayMs);
    this.timer.unref();
  }

  /** The next heartbeat within the one the document promised; a failed write (the store away) soon, not a heartbeat later. */
  private afterWrite(written: number | false): void {
    this.schedule(written !== false ? heartbeatDelay(written) : Math.min(this.heartbeatMs, RETRY_MS));
  }

  /** The heartbeat the document written promised (ms), or false when the write failed. */
  private async write(): Promise<number | false> {
    const heartbeatMs = this.heartbeatMs;
    if (this.stopped) return heartbeatMs;
    const { store, nodeId, metrics, logger, intervalMs, location } = this.options;
    if (!this.options.always && Object.keys(this.edges).length === 0 && this.links.length === 0 && !this.written) return heartbeatMs;
    const edges = this.edges;
    const links = this.links;
    const now = Date.now();
    const seq = await store.updateSeq().catch(() => undefined);
    const doc: HealthDoc = {
      _id: healthDocId(nodeId),
      type: 'health',
      node: nodeId,
      updatedAt: now,
      intervalMs,
      heartbeatMs,
      ...(location ? { location } : {}),
      edges,
      links,
      ...(seq !== undefined ? { seq } : {}),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (this.rev === undefined) this.rev = (await store.get(doc._id))?._rev;
        const written = await store.put({ ...doc, ...(this.rev ? { _rev: this.rev } : {}) });
        this.rev = written.rev;
        this.lastWrite = now;
        this.written = { edges, links: new Map(links.map((l) => [l.id, publishedState(l.state)])) };
        metrics.healthWrites.labels('ok').inc();
        return heartbeatMs;
      } catch (err) {
        this.rev = undefined;
        if (err instanceof ConflictError && attempt === 0) continue;
        metrics.healthWrites.labels('failed').inc();
        logger.warn({ err: (err as Error).message }, "cannot write this node's health document; other nodes see stale observations");
        return false;
      }
    }
    return false;
  }
}
