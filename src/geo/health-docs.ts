// What each node sees of each edge, as one store document per observing node (`health/<node id>`), so writes from
// different nodes never conflict. An edge is down when a strict majority of the fresh observers see it down: one node
// with a broken link cannot take an edge out for everyone. A document is written when what it says changes, else at
// a slow heartbeat (health-writer.ts), so it is fresh for a heartbeat plus two probe intervals; older documents
// (without a heartbeat) for three probe intervals. The same document carries the node's replication links
// (cluster/link-report.ts): how every node learns how the links towards it are doing.

import type { LinkReport } from '../cluster/link-report.js';
import type { StoredDoc } from '../store/store.js';

export const HEALTH_PREFIX = 'health/';
/** Observations older than this many of their writer's intervals no longer vote. */
export const FRESH_INTERVALS = 3;

export interface EdgeObservation {
  up: boolean;
  /** EWMA of the probe round-trip time, when a probe ever succeeded. */
  rttMs?: number;
  /** When the last probe finished (ms since the epoch). */
  checkedAt: number;
}

export interface HealthDoc extends StoredDoc {
  type: 'health';
  node: string;
  /** ms since the epoch of this write. */
  updatedAt: number;
  intervalMs: number;
  edges: Record<string, EdgeObservation>;
  /** Rewritten at least this often when nothing changes (ms); absent in documents of older nodes. */
  heartbeatMs?: number;
  /** The replications this node's CouchDB holds, as its watchdog last saw them. */
  links?: LinkReport[];
  /** This node's database update sequence when the document was written (opaque, for people). */
  seq?: string;
}

/** How long a document's observations vote: a heartbeat plus two probe intervals, or three intervals without one. */
export function freshForMs(doc: Pick<HealthDoc, 'intervalMs' | 'heartbeatMs'>, fallbackIntervalMs: number): number {
  const interval = typeof doc.intervalMs === 'number' && doc.intervalMs > 0 ? doc.intervalMs : fallbackIntervalMs;
  return typeof doc.heartbeatMs === 'number' && doc.heartbeatMs > 0 ? doc.heartbeatMs + 2 * interval : FRESH_INTERVALS * interval;
}

export interface Vote {
  node: string;
  up: boolean;
  rttMs?: number;
  ageMs: number;
  fresh: boolean;
}

export function healthDocId(node: string): string {
  return HEALTH_PREFIX + node;
}

export function isHealthDoc(doc: StoredDoc): doc is HealthDoc {
  return doc.type === 'health' && typeof doc.node === 'string' && typeof doc.updatedAt === 'number' && typeof doc.edges === 'object' && doc.edges !== null;
}

/** Every observer's vote on one edge; this node's own in-memory view replaces its (older) document. */
export function votesFor(edge: string, docs: Iterable<HealthDoc>, self: string, own: EdgeObservation | undefined, ownIntervalMs: number, now: number): Vote[] {
  const votes: Vote[] = [];
  for (const doc of docs) {
    if (doc.node === self) continue;
    const seen = doc.edges[edge];
    if (!seen || typeof seen.up !== 'boolean') continue;
    const ageMs = Math.max(0, now - doc.updatedAt);
    votes.push({ node: doc.node, up: seen.up, rttMs: seen.rttMs, ageMs, fresh: ageMs < freshForMs(doc, ownIntervalMs) });
  }
  if (own) votes.push({ node: self, up: own.up, rttMs: own.rttMs, ageMs: Math.max(0, now - own.checkedAt), fresh: true });
  return votes.sort((a, b) => a.node.localeCompare(b.node));
}

/** Up unless most fresh observers say down; with no fresh observer, up (nothing says otherwise). */
export function decideUp(votes: Vote[]): boolean {
  const fresh = votes.filter((v) => v.fresh);
  if (fresh.length === 0) return true;
  const down = fresh.filter((v) => !v.up).length;
  return down * 2 <= fresh.length;
}
