// Long work on zones (validating, hashing or indexing 100,000 RRsets) is written as a generator that yields every
// few hundred items. Run at once it is a plain function; run sliced it gives the event loop a turn whenever a slice
// has taken `sliceMs`, so queries for every other zone keep being answered while one big zone is built (issue 13).

export type Steps<T> = Generator<void, T, void>;

/** Runs the steps to the end without yielding to anyone. */
export function runAtOnce<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Default slice: short enough that a query waits at most this long behind a build. */
export const SLICE_MS = 8;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs the steps, letting other work run between slices of `sliceMs`. */
export async function runSliced<T>(steps: Steps<T>, sliceMs = SLICE_MS): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await turn();
      sliceStart = performance.now();
    }
  }
}

/** How many items a step loop handles between two yields. */
export const STEP_ITEMS = 256;
