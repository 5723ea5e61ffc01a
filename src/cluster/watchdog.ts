// The replication watchdog: every node checks the replications its own CouchDB holds (the `_replicator` documents
// `cluster join` wrote) every few seconds, measuring each one on the databases themselves (link-check.ts). A link
// with changes pending and none delivered for the stall time, one CouchDB's scheduler reports as crashed, and one
// whose peer has just come back, is started again at once: CouchDB would otherwise wait out a doubling back-off (up
// to hours) and pouchdb-server's replicator may never resume (its requests have no timeout: one sent into a network
// that dropped it waits for good). What it sees goes to metrics and to this node's health document, so the node at
// the other end of each link learns how its links are doing.

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CouchServer } from '../store/couch-http.js';
import { READ_TIMEOUT_MS, readEnds, readMissing, RoundReads, oneLine } from './link-check.js';
import { LINK_STATES, type LinkReport, type LinkState } from './link-report.js';
import { readIdentity } from './node-identity.js';
import { ourDocs, parseId, restartReplication, schedulerDocs, serverOfDbUrl } from './replication.js';

export interface WatchdogOptions {
  local: CouchServer;
  /** The main database (`<prefix>data`), where peers keep their node id. */
  mainDb: string;
  nodeId: string;
  logger: Logger;
  registry: Registry;
  /** How often every link is checked (ms). */
  intervalMs: number;
  /** Pending changes with none delivered this long: the link is restarted (ms). */
  stallMs: number;
  /**
   * How long a read of an end may take before the end counts as not answering (ms; default 5 s). An end that did
   * not answer last time gets at most the interval (and at least 1 s): see RoundReads.
   */
  readTimeoutMs?: number;
  /** Told after each round what every link looks like. */
  onReport?(links: LinkReport[]): void;
}

interface Track {
  id: string;
  db: string;
  direction: 'push' | 'pull';
  peer: string;
  state: LinkState;
  pending: number;
  lastProgressAt: number;
  /** The oldest pending change at the last check: once the target has it, the link moved. */
  oldestMissing?: string;
  /** Source sequence at the last check that found the link caught up. */
  caughtUpAt?: string;
  /** When the source was first seen to have moved since the link was last caught up. */
  movedAt?: number;
  /** Since when an end has not answered (undefined while both do): the job may be failing and backing off. */
  unreachableSince?: number;
  lastRestartAt: number;
  restarts: number;
  error?: string;
}

const CRASHED = new Set(['crashing', 'error', 'failed']);
/** An end that did not answer for at least this long (and two rounds) had an outage: its links restart on return. */
const MIN_OUTAGE_MS = 2_000;

export class ReplicationWatchdog {
  private readonly tracks = new Map<string, Track>();
  /** Peer URL → its node id, once read. */
  private readonly peerNodes = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private localReachable = true;
  /** Servers whose last read found them not answering. */
  private readonly inDoubt = new Set<string>();
  private readonly restartsTotal: Counter<'peer' | 'db' | 'direction'>;

  constructor(private readonly options: WatchdogOptions) {
    const registers = [options.registry];
    const labelNames = ['peer', 'db', 'direction'] as const;
    const now = (): number => Date.now();
    const pending: Gauge<'peer' | 'db' | 'direction'> = new Gauge({
      name: 'edgedns_replication_pending_changes',
      help: 'Changes the target of a replication this node holds still lacks, as last measured (at most 100)',
      labelNames,
      registers,
      collect: () => {
        pending.reset();
        for (const t of this.tracks.values()) pending.labels(t.peer, t.db, t.direction).set(t.pending);
      },
    });
    const progress: Gauge<'peer' | 'db' | 'direction'> = new Gauge({
      name: 'edgedns_replication_last_progress_seconds',
      help: 'Seconds since a replication this node holds was last caught up or delivered a pending change (0 while caught up)',
      labelNames,
      registers,
      collect: () => {
        progress.reset();
        for (const t of this.tracks.values()) progress.labels(t.peer, t.db, t.direction).set(t.state === 'caught-up' ? 0 : Math.max(0, (now() - t.lastProgressAt) / 1000));
      },
    });
    const state: Gauge<'peer' | 'db' | 'direction' | 'state'> = new Gauge({
      name: 'edgedns_replication_state',
      help: 'State of each replication this node holds: 1 for the current one (caught-up, behind, stalled, crashing, unreachable, unknown)',
      labelNames: [...labelNames, 'state'],
      registers,
      collect: () => {
        state.reset();
        for (const t of this.tracks.values()) for (const s of LINK_STATES) state.labels(t.peer, t.db, t.direction, s).set(s === t.state ? 1 : 0);
      },
    });
    this.restartsTotal = new Counter({
      name: 'edgedns_replication_restarts_total',
      help: 'Replications this node holds that its watchdog started again (stalled, crashed, or their peer came back)',
      labelNames,
      registers,
    });
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.round()
        .catch((err: unknown) => this.options.logger.error({ err }, 'replication watchdog round failed'))
        .finally(() => {
          this.running = undefined;
          if (this.stopped) return;
          this.timer = setTimeout(tick, this.options.intervalMs);
          this.timer.unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** The links as last checked. */
  links(): LinkReport[] {
    const { nodeId } = this.options;
    return [...this.tracks.values()].map((t) => {
      const peer = this.peerNodes.get(t.peer) ?? t.peer;
      const report: LinkReport = {
        id: t.id,
        db: t.db,
        direction: t.direction,
        from: t.direction === 'push' ? nodeId : peer,
        to: t.direction === 'push' ? peer : nodeId,
        holder: nodeId,
        state: t.state,
        pending: t.pending,
        lastProgressAt: t.lastProgressAt,
        restarts: t.restarts,
      };
      if (t.error) report.error = t.error;
      return report;
    });
  }

  /** One check of every link; exported for tests and the CLI's one-shot view. */
  async round(): Promise<void> {
    const { local, logger } = this.options;
    let docs;
    try {
      docs = await ourDocs(local);
    } catch (err) {
      // Our own CouchDB is away: every link is in doubt, and each will be looked at afresh when it is back.
      if (this.localReachable) logger.warn({ err: oneLine(err) }, 'replication watchdog cannot read the local _replicator');
      this.localReachable = false;
      for (const t of this.tracks.values()) {
        t.state = 'unreachable';
        t.unreachableSince ??= Date.now();
        t.error = `local CouchDB ${oneLine(err)}`;
      }
      this.report();
      return;
    }
    this.localReachable = true;
    const scheduler = await schedulerDocs(local).catch(() => undefined);
    const reads = new RoundReads({
      timeoutMs: this.options.readTimeoutMs ?? READ_TIMEOUT_MS,
      inDoubt: this.inDoubt,
      inDoubtTimeoutMs: Math.max(1000, this.options.intervalMs),
    });
    const seen = new Set<string>();
    const now = Date.now();
    await Promise.all(
      docs.map(async (doc) => {
        const where = parseId(doc._id);
        if (!where || typeof doc.source !== 'string' || typeof doc.target !== 'string') return;
        seen.add(doc._id);
        let t = this.tracks.get(doc._id);
        if (!t) {
          t = { id: doc._id, db: where.db, direction: where.direction, peer: where.peer, state: 'unknown', pending: 0, lastProgressAt: now, lastRestartAt: 0, restarts: 0 };
          this.tracks.set(doc._id, t);
        }
        const source = serverOfDbUrl(doc.source, where.db);
        const target = serverOfDbUrl(doc.target, where.db);
        await this.learnPeer(where.peer, where.direction === 'push' ? target : source, reads);
        await this.check(t, source, target, reads, scheduler?.get(doc._id)?.state);
      }),
    );
    for (const id of this.tracks.keys()) if (!seen.has(id)) this.tracks.delete(id);
    this.report();
  }

  private async check(t: Track, source: CouchServer, target: CouchServer, reads: RoundReads, scheduled: string | undefined): Promise<void> {
    const { stallMs, logger } = this.options;
    const reading = await readEnds(reads, source, target, t.db);
    const now = Date.now();
    if (reading.source !== 'ok' || reading.target !== 'ok') {
      t.unreachableSince ??= now;
      t.error = reading.error;
      t.caughtUpAt = undefined;
      // One slow answer on a busy server is not an outage: unreachable once it lasts (and then said once).
      if (t.state !== 'unreachable' && this.outage(t, now)) {
        logger.warn({ link: t.id, err: reading.error }, 'replication link: an end does not answer');
        t.state = 'unreachable';
      }
      return;
    }
    // Away for more than a moment (one slow answer is not an outage): its job has been failing, and CouchDB's
    // replicator backs off, doubling, after each failure; pouchdb-server's may wait for good on a request the network
    // dropped. So the link is restarted now, whether or not anything is pending yet (what the peer writes next would
    // otherwise wait until the link is called stalled), and before anything else is read: a read that fails next
    // must not make the watchdog forget that the peer came back.
    const cameBack = this.outage(t, now);
    t.unreachableSince = undefined;
    t.error = undefined;
    if (cameBack) await this.restart(t, 'peer back', now);
    const crashed = !cameBack && scheduled !== undefined && CRASHED.has(scheduled);
    if (!cameBack && !crashed && (t.state === 'caught-up' || t.state === 'behind')) {
      // The source has not moved since the link was caught up: nothing can be missing.
      if (t.state === 'caught-up' && reading.sourceSeq === t.caughtUpAt) {
        t.lastProgressAt = now;
        return;
      }
      // It moved a moment ago: replication is surely at work; measured once it has had half the stall time, which
      // keeps the watchdog's reads out of the way of a burst of writes.
      t.movedAt ??= now;
      if (now - t.movedAt < stallMs / 2) {
        t.state = 'behind';
        return;
      }
    }
    await readMissing(reads, source, target, t.db, reading);
    if (reading.target !== 'ok') {
      t.unreachableSince ??= now;
      t.error = reading.error;
      return;
    }
    t.pending = reading.missing.length;
    if (t.pending === 0) {
      t.state = 'caught-up';
      t.caughtUpAt = reading.sourceSeq;
      t.lastProgressAt = now;
      t.oldestMissing = undefined;
      t.movedAt = undefined;
    } else {
      t.caughtUpAt = undefined;
      // What is missing at the first check since the link was caught up may have reached the source a moment ago
      // (on a busy mesh, the newest of a stream of writes): it is stuck only if it is still missing at a later check.
      // Judged by the time since the link was last seen caught up, every link under steady writes would be restarted.
      const previous = t.oldestMissing;
      if (previous !== undefined && !reading.missing.includes(previous)) t.lastProgressAt = now;
      t.oldestMissing = reading.missing[0];
      t.state = previous !== undefined && now - t.lastProgressAt > stallMs ? 'stalled' : 'behind';
    }
    if (crashed) {
      t.state = 'crashing';
      t.error = `CouchDB scheduler: ${scheduled}`;
    }
    // A link that keeps failing is restarted once per stall time, not every round.
    const why = crashed ? 'crashed' : t.state === 'stalled' ? 'stalled' : undefined;
    if (why && now - t.lastRestartAt >= stallMs) await this.restart(t, why, now);
  }

  /** Starts the link's replication again (its document written anew); counted and said. */
  private async restart(t: Track, why: string, now: number): Promise<void> {
    const { logger, local } = this.options;
    try {
      if (!(await restartReplication(local, t.id))) return;
    } catch (err) {
      logger.warn({ link: t.id, err: oneLine(err) }, 'cannot restart a replication');
      return;
    }
    t.lastRestartAt = now;
    t.restarts++;
    // Measured from the restart: a restarted link that still delivers nothing is stalled again after the stall time.
    t.lastProgressAt = now;
    this.restartsTotal.labels(t.peer, t.db, t.direction).inc();
    logger.info({ link: t.id, why, pending: t.pending }, 'replication restarted');
  }

  /** An end of the link has not answered for two rounds and at least MIN_OUTAGE_MS. */
  private outage(t: Track, now: number): boolean {
    return t.unreachableSince !== undefined && now - t.unreachableSince >= Math.max(2 * this.options.intervalMs, MIN_OUTAGE_MS);
  }

  private async learnPeer(peer: string, server: CouchServer, reads: RoundReads): Promise<void> {
    if (this.peerNodes.has(peer)) return;
    const id = await readIdentity(server, this.options.mainDb, reads.signal(server)).catch(() => undefined);
    if (id) this.peerNodes.set(peer, id);
  }

  private report(): void {
    this.options.onReport?.(this.links());
  }
}
