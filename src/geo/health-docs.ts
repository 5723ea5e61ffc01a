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
  /**
   * The RTT this observer stands by for steering: it moves only once probe samples have stayed outside the
   * stabilization margin for some rounds in a row (steady-rtt.ts), so jitter never reaches the shared view. Older
   * documents lack it: rttMs then stands in.
   */
  steadyRttMs?: number;
  /** When the last probe finished (ms since the epoch). */
  checkedAt: number;
}

export interface HealthDoc extends StoredDoc {
  type: 'health';
  node: string;
  /** ms since the epoch of this write. */
  updatedAt: number;
  intervalMs: number;
  /** Where the observer is (--location), so every reader can take its distance out of its RTTs. */
  location?: ObserverLocation;
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

export interface ObserverLocation {
  latitude: number;
  longitude: number;
}

export interface Vote {
  node: string;
  up: boolean;
  rttMs?: number;
  steadyRttMs?: number;
  location?: ObserverLocation;
  ageMs: number;
  fresh: boolean;
}

/** This node as an observer: its in-memory view of an edge (undefined before its first probe) and where it is. */
export interface SelfObserver {
  node: string;
  observation?: EdgeObservation;
  intervalMs: number;
  location?: ObserverLocation;
}

export function healthDocId(node: string): string {
  return HEALTH_PREFIX + node;
}

/**
 * `cluster forget NODE` deletes the node's health document, but a copy written before may still be on its way (a
 * replication running late, a node cut off meanwhile): arriving after the deletion, it wins over it (CouchDB keeps a
 * live revision over a deleted one) and the node would be waited for again. So forget also writes
 * `forgotten/<node id>` with the time it ran, and a health document its node wrote before then counts no more.
 */
export const FORGOTTEN_PREFIX = 'forgotten/';

export interface ForgottenDoc extends StoredDoc {
  type: 'forgotten';
  node: string;
  /** ms since the epoch, by the clock of the machine that ran `cluster forget`. */
  forgottenAt: number;
}

export function forgottenDocId(node: string): string {
  return FORGOTTEN_PREFIX + node;
}

export function isForgottenDoc(doc: StoredDoc): doc is ForgottenDoc {
  return doc.type === 'forgotten' && typeof doc.node === 'string' && typeof doc.forgottenAt === 'number';
}

/**
 * Whether a health document was written before its node was forgotten (`forgottenAt`, by node id). The node's clock
 * and the forgetting machine's may disagree by as long as the node had been silent (forget is for a silent node).
 */
export function forgottenSince(doc: HealthDoc, forgottenAt: ReadonlyMap<string, number>): boolean {
  const at = forgottenAt.get(doc.node);
  return at !== undefined && doc.updatedAt <= at;
}

export function isHealthDoc(doc: StoredDoc): doc is HealthDoc {
  return doc.type === 'health' && typeof doc.node === 'string' && typeof doc.updatedAt === 'number' && typeof doc.edges === 'object' && doc.edges !== null;
}

/**
 * Every observer's vote on one edge. This node's in-memory view replaces its (older) document; before its first
 * probe round its document still speaks for it, so a node that restarts votes as the others already count it.
 */
export function votesFor(edge: string, docs: Iterable<HealthDoc>, self: SelfObserver, now: number): Vote[] {
  const votes: Vote[] = [];
  for (const doc of docs) {
    if (doc.node === self.node && self.observation) continue;
    const seen = doc.edges[edge];
    if (!seen || typeof seen.up !== 'boolean') continue;
    const ageMs = Math.max(0, now - doc.updatedAt);
    votes.push({ node: doc.node, up: seen.up, ...rtts(seen), ...(validLocation(doc.location) ? { location: doc.location } : {}), ageMs, fresh: ageMs < freshForMs(doc, self.intervalMs) });
  }
  const own = self.observation;
  if (own) votes.push({ node: self.node, up: own.up, ...rtts(own), ...(self.location ? { location: self.location } : {}), ageMs: Math.max(0, now - own.checkedAt), fresh: true });
  return votes.sort((a, b) => a.node.localeCompare(b.node));
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** The RTTs of an observation, when they are numbers (documents come from other nodes and older versions). */
function rtts(seen: EdgeObservation): Pick<Vote, 'rttMs' | 'steadyRttMs'> {
  return { ...(finite(seen.rttMs) ? { rttMs: seen.rttMs } : {}), ...(finite(seen.steadyRttMs) ? { steadyRttMs: seen.steadyRttMs } : {}) };
}

function validLocation(location: unknown): location is ObserverLocation {
  const l = location as ObserverLocation | undefined;
  return !!l && typeof l === 'object' && finite(Math.abs(l.latitude)) && Math.abs(l.latitude) <= 90 && finite(Math.abs(l.longitude)) && Math.abs(l.longitude) <= 180;
}

/** Up unless most fresh observers say down; with no fresh observer, up (nothing says otherwise). */
export function decideUp(votes: Vote[]): boolean {
  const fresh = votes.filter((v) => v.fresh);
  if (fresh.length === 0) return true;
  const down = fresh.filter((v) => !v.up).length;
  return down * 2 <= fresh.length;
}
