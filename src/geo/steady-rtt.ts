// The observer's half of stabilization. Each node publishes, per edge, a steady RTT beside its running average: the
// steady value follows the average only after the average has stayed outside the margin around it, on the same
// side, for `rounds` probe rounds in a row. Jitter therefore never reaches the health documents' steady values, and
// a real change reaches them after a few rounds. The state lives in the observer's own document (one writer), so
// every reader derives the same view from it, and a node that restarts picks its steady values up from there.

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
  /** Rounds in a row the average has been outside the margin; the sign says on which side. */
  streak: number;
}

/** Outside the margin of `reference`: further from it than both its share and the milliseconds. */
export function beyondMargin(value: number, reference: number, margin: Margin): boolean {
  return Math.abs(value - reference) > Math.max((margin.percent / 100) * Math.abs(reference), margin.ms);
}

/** Takes one round's average; true when the steady value moved. */
export function advanceSteady(state: SteadyRtt, averageMs: number, margin: Margin): boolean {
  const steady = state.steadyRttMs;
  if (steady === undefined) {
    // the first measurement: nothing to hold on to yet
    state.steadyRttMs = averageMs;
    state.streak = 0;
    return true;
  }
  if (!beyondMargin(averageMs, steady, margin)) {
    state.streak = 0;
    return false;
  }
  const side = averageMs > steady ? 1 : -1;
  state.streak = Math.sign(state.streak) === side ? state.streak + side : side;
  if (Math.abs(state.streak) < margin.rounds) return false;
  state.steadyRttMs = averageMs;
  state.streak = 0;
  return true;
}
