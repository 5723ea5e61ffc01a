// A replication link as a node reports it: in its own health document (so every node learns how the links towards
// it are doing, whoever holds them), in `cluster status` and in metrics.

export type LinkState =
  /** The target has the source's latest changes. */
  | 'caught-up'
  /** Changes pending, and moving. */
  | 'behind'
  /** Changes pending and none delivered for longer than the stall time. */
  | 'stalled'
  /** CouchDB's scheduler says the job crashed (crashing, error, failed). */
  | 'crashing'
  /** The source or the target does not answer the watchdog. */
  | 'unreachable'
  /** Not checked yet. */
  | 'unknown';

export const LINK_STATES: readonly LinkState[] = ['caught-up', 'behind', 'stalled', 'crashing', 'unreachable', 'unknown'];

export interface LinkReport {
  /** The `_replicator` document id. */
  id: string;
  db: string;
  direction: 'push' | 'pull';
  /** Node ids (or the peer's URL when its id is not known): where changes come from and go to. */
  from: string;
  to: string;
  /** The node whose CouchDB holds the replication document. */
  holder: string;
  state: LinkState;
  /** Changes the target lacks (at most the head looked at). */
  pending: number;
  /** ms since the epoch: when the link was last caught up or last delivered a pending change. */
  lastProgressAt: number;
  /** Times this node's watchdog started it again. */
  restarts: number;
  error?: string;
}

/** What a state change worth telling the other nodes is: behind-but-moving is as good as caught up. */
export function publishedState(state: LinkState): string {
  return state === 'caught-up' || state === 'behind' ? 'ok' : state;
}

export function isLinkReport(value: unknown): value is LinkReport {
  const v = value as Partial<LinkReport> | null;
  return typeof v === 'object' && v !== null && typeof v.id === 'string' && typeof v.from === 'string' && typeof v.to === 'string' && typeof v.state === 'string' && typeof v.pending === 'number';
}
