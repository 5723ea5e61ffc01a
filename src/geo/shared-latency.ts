// One view of latency that every node computes alike: from the observers' votes on an edge (their health documents,
// this node's own view as one of them) to the edge's *penalty*, the milliseconds its route adds to what geography
// predicts. Pure functions; GeoState runs them once per snapshot, never per query.
//
//   per fresh observer:  down, or no RTT ever measured        → UNKNOWN_PENALTY_MS (unknown counts as far, never near)
//                        observer and edge placed             → max(0, steady RTT − estimate(observer → edge))
//                        otherwise                            → ¼ × steady RTT (its distance cannot be taken out,
//                                                                so only a quarter of it counts)
//   per edge:            the median of those; no fresh observer → UNKNOWN_PENALTY_MS
//
// The median keeps one node's bad link (or one spike) from moving the answer for everyone; taking each observer's
// own distance out is what lets a London node and a Singapore node agree on how slow an edge in Frankfurt is.

import { estimateMs, greatCircleKm, type Place } from './distance.js';
import type { Vote } from './health-docs.js';

export const UNKNOWN_PENALTY_MS = 1000;
/** Share of an RTT that counts when the observer's distance to the edge is unknown. */
export const UNPLACED_RTT_WEIGHT = 0.25;

export interface ScoredVote extends Vote {
  /** What geography alone predicts from this observer to the edge, when both are placed. */
  baselineMs?: number;
  /** This vote's penalty; undefined when the vote is not fresh (it does not count). */
  penaltyMs?: number;
}

export function scoreVote(vote: Vote, edge: Place | undefined): ScoredVote {
  if (!vote.fresh) return vote;
  const rtt = vote.steadyRttMs ?? vote.rttMs;
  const baselineMs = vote.location && edge ? estimateMs(greatCircleKm(vote.location, edge)) : undefined;
  let penaltyMs: number;
  if (!vote.up || rtt === undefined) penaltyMs = UNKNOWN_PENALTY_MS;
  else if (baselineMs !== undefined) penaltyMs = Math.max(0, rtt - baselineMs);
  else penaltyMs = UNPLACED_RTT_WEIGHT * rtt;
  return { ...vote, ...(baselineMs !== undefined ? { baselineMs: round(baselineMs) } : {}), penaltyMs: round(penaltyMs) };
}

/** The median of the fresh votes' penalties (the mean of the middle two for an even count). */
export function medianPenalty(votes: readonly ScoredVote[]): number {
  const values = votes.flatMap((v) => (v.penaltyMs === undefined ? [] : [v.penaltyMs])).sort((a, b) => a - b);
  if (values.length === 0) return UNKNOWN_PENALTY_MS;
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid] : round((values[mid - 1] + values[mid]) / 2);
}

/** Hundredths of a millisecond: the same documents give the same number on every node, with nothing left to float. */
function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
