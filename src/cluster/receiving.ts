// Whether this node is receiving what its peers write. Most links that bring changes here are held by peers (the
// node that joined holds both directions), so this node cannot watch them itself; it reads what the peers' health
// documents say instead, which reach it by replication. It is not receiving (health: stale) when
//   - a fresh report says a link towards it has changes pending and none delivered (stalled, crashing): measured on
//     its own database by the holder's watchdog;
//   - a peer has been silent for longer than its heartbeats allow: nothing of what it writes gets through;
//   - its own store was away for a while and has come back: until each peer with links here has reported them
//     working again (its watchdog writes when they recover, after whatever it wrote meanwhile, so the report
//     arrives after those writes), what the peers wrote meanwhile may still be on its way.

import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { StoreHealth, SyncTracker } from '../store/store-health.js';
import { isLinkReport, type LinkReport } from './link-report.js';

/** What the receiving check needs of a peer's health document. */
export interface PeerReport {
  node: string;
  /** ms since the epoch, by the writer's clock. */
  updatedAt: number;
  heartbeatMs?: number;
  links?: unknown[];
}

export interface ReceivingOptions {
  nodeId: string;
  health: StoreHealth;
  /** The tracker of this node's own store feed (the zones'): its outages start the catch-up rule. */
  store: SyncTracker;
  /** Every node's latest health document, this node's included (it is skipped). */
  reports(): Iterable<PeerReport>;
  /** This node's own links, from its watchdog (those it holds). */
  ownLinks(): LinkReport[];
  /** This node's heartbeat now (it may follow the size of the mesh); a peer's own, when its report gives one. */
  heartbeatMs(): number;
  /** The watchdog interval: an outage shorter than two of them may pass unnoticed by the peers. */
  watchdogIntervalMs: number;
  logger: Logger;
  registry: Registry;
  /** How often the check runs (memory only; default 1 s). */
  intervalMs?: number;
}

/** Clocks of different machines disagree a little; a peer's write this much before our return still counts. */
const CLOCK_ALLOWANCE_MS = 2_000;
/** A peer silent for this many of its heartbeats (plus the allowance) is not getting its writes through. */
const SILENT_HEARTBEATS = 2.5;

export class ReceivingMonitor {
  private timer: NodeJS.Timeout | undefined;
  private downSince: number | undefined;
  /** After an outage of our store: when it came back, when the data was last current, and whom we wait for. */
  private catchUp: { backAt?: number; currentUntil: number; waiting: Set<string> } | undefined;
  /** Peers with links here, as their reports said while our store was up (who to wait for after an outage). */
  private linkedPeers = new Set<string>();
  private problems: string[] = [];
  private readonly ages = new Map<string, number>();

  constructor(private readonly options: ReceivingOptions) {
    const registers = [options.registry];
    const receiving: Gauge = new Gauge({
      name: 'edgedns_replication_receiving',
      help: '1 while this node receives what its peers write (no stalled link towards it, no silent peer, caught up after an outage), else 0',
      registers,
      collect: () => receiving.set(this.problems.length === 0 ? 1 : 0),
    });
    const age: Gauge<'node'> = new Gauge({
      name: 'edgedns_replication_peer_report_age_seconds',
      help: "Seconds since each peer's health document was written, as this node has it (silent peers grow)",
      labelNames: ['node'],
      registers,
      collect: () => {
        age.reset();
        const now = Date.now();
        for (const [node, at] of this.ages) age.labels(node).set(Math.max(0, (now - at) / 1000));
      },
    });
    this.downSince = options.store.connected ? undefined : Date.now();
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 1000);
    this.timer.unref();
    this.check();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.options.health.setStale('receiving', undefined);
  }

  /** Why this node is not receiving, one line each; empty when it is. */
  check(): string[] {
    const { nodeId, store, health, watchdogIntervalMs, logger } = this.options;
    const heartbeatMs = this.options.heartbeatMs();
    const now = Date.now();
    const peers = [...this.options.reports()].filter((r) => r.node !== nodeId);
    this.ages.clear();
    for (const peer of peers) this.ages.set(peer.node, peer.updatedAt);

    // Our own store: away (stale anyway, said by its tracker), and back. The catch-up starts while it is away, so
    // there is no moment between its return and the next check when the node would say ok.
    if (!store.connected) {
      this.downSince ??= now;
      if (this.linkedPeers.size === 0) {
        // Started while the store is away: the peers as local state last knew them.
        this.linkedPeers = new Set(peers.filter((p) => linksConcern(p, nodeId).length > 0).map((p) => p.node));
      }
      // Shorter outages may pass unnoticed by the peers' watchdogs, which then have nothing new to report.
      if (!this.catchUp && now - this.downSince >= 2 * watchdogIntervalMs + 1000 && this.linkedPeers.size > 0) {
        this.catchUp = { currentUntil: this.downSince, waiting: new Set(this.linkedPeers) };
      }
    } else if (this.downSince !== undefined) {
      if (this.catchUp) {
        this.catchUp.backAt = now;
        logger.info({ waiting: [...this.catchUp.waiting] }, 'store back; waiting for every peer to report its links here working before saying ok');
      }
      this.downSince = undefined;
    } else {
      this.linkedPeers = new Set(peers.filter((p) => now - p.updatedAt <= silentAfter(p, heartbeatMs) && linksConcern(p, nodeId).length > 0).map((p) => p.node));
    }

    const problems: { text: string; since: number }[] = [];
    if (this.catchUp) {
      const { backAt, currentUntil, waiting } = this.catchUp;
      for (const peer of peers) {
        const links = linksConcern(peer, nodeId);
        if (peer.updatedAt > currentUntil && links.every((l) => l.state === 'caught-up' || l.state === 'behind')) waiting.delete(peer.node);
      }
      // Peers that do not write at all are left to the silence rule.
      if (store.connected && (waiting.size === 0 || (backAt !== undefined && now - backAt > 3 * heartbeatMs))) this.catchUp = undefined;
      else problems.push({ text: `catching up after the store was away: no news yet from ${[...waiting].sort().join(', ') || 'the store'}`, since: currentUntil });
    }
    for (const peer of peers) {
      const silence = now - peer.updatedAt;
      if (silence > silentAfter(peer, heartbeatMs)) problems.push({ text: `no news from ${peer.node} for ${Math.round(silence / 1000)} s`, since: peer.updatedAt });
    }
    const fresh = peers.filter((p) => now - p.updatedAt <= silentAfter(p, heartbeatMs));
    const links = [...this.options.ownLinks(), ...fresh.flatMap((p) => (p.links ?? []).filter(isLinkReport))];
    for (const link of links) {
      if (link.to !== nodeId || link.pending === 0 || (link.state !== 'stalled' && link.state !== 'crashing')) continue;
      problems.push({ text: `${link.from} → ${link.to} (${link.db}, held by ${link.holder}) is ${link.state} with ${link.pending} change(s) pending`, since: link.lastProgressAt });
    }
    const texts = problems.map((p) => p.text);
    if (texts.join('\n') !== this.problems.join('\n')) {
      if (texts.length > 0) logger.warn({ problems: texts }, 'not receiving everything from the peers');
      else if (this.problems.length > 0) logger.info('receiving from every peer again');
    }
    this.problems = texts;
    health.setStale(
      'receiving',
      problems.length === 0 ? undefined : { text: texts.join('; '), kind: 'not-receiving', since: Math.min(...problems.map((p) => p.since)) },
    );
    return texts;
  }
}

/** The links of a peer's report that bring changes to or from this node. */
function linksConcern(peer: PeerReport, nodeId: string): LinkReport[] {
  return (peer.links ?? []).filter(isLinkReport).filter((l) => l.from === nodeId || l.to === nodeId);
}

function silentAfter(peer: PeerReport, ownHeartbeatMs: number): number {
  const heartbeat = typeof peer.heartbeatMs === 'number' && peer.heartbeatMs > 0 ? peer.heartbeatMs : ownHeartbeatMs;
  return SILENT_HEARTBEATS * heartbeat + CLOCK_ALLOWANCE_MS;
}
