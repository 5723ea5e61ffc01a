// The observer's half of stabilization. Each node publishes, per edge, a steady RTT beside its running average: the
// steady value moves only once `rounds` probe samples in a row have fallen outside the margin around it, all on the
// same side, and then to the median of those samples (the new level, not an average still on its way there). Jitter
// therefore never reaches the health documents' steady values, and a real change reaches them after a few rounds.
// The state lives in the observer's own document (one writer), so every reader derives the same view from it, and a
// node that restarts picks its steady values up from there.

export interface Margin {
  /** Share of the current value (0-100) a change must exceed... */
  percent: number;
  /** ...and milliseconds it must exceed, both. */
  ms: number;
  /** Probe rounds in a row the change must last. */
  rounds: number;
}

export interface SteadyRtt {
  steadyRttMs?: number;
  /** The samples in a row outside the margin, all on one side of the steady value. */
  pending?: number[];
}

/** Outside the margin of `reference`: further from it than both its share and the milliseconds. */
export function beyondMargin(value: number, reference: number, margin: Margin): boolean {
  return Math.abs(value - reference) > Math.max((margin.percent / 100) * Math.abs(reference), margin.ms);
}

/** Takes one round's probe sample; true when the steady value moved. */
export function advanceSteady(state: SteadyRtt, sampleMs: number, margin: Margin): boolean {
  const steady = state.steadyRttMs;
  if (steady === undefined) {
    // the first measurement: nothing to hold on to yet
    state.steadyRttMs = sampleMs;
    state.pending = undefined;
    return true;
  }
  if (!beyondMargin(sampleMs, steady, margin)) {
    state.pending = undefined;
    return false;
  }
  const pending = state.pending;
  const sameSide = pending !== undefined && pending[0] > steady === sampleMs > steady;
  state.pending = sameSide ? [...pending, sampleMs] : [sampleMs];
  if (state.pending.length < margin.rounds) return false;
  const sorted = [...state.pending].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  state.steadyRttMs = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  state.pending = undefined;
  return true;
}
