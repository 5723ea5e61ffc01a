// Waits until an index fed by the store shows a write, so an API call that says "done" means "served here".
// Every index (zones, geo, pages) calls its listeners after applying a batch of changes; `check` is asked then.

export type OnApplied = (listener: () => void) => () => void;

/** Resolves true once `check` holds, or with `check()`'s answer after `timeoutMs`. */
export function waitApplied(onApplied: OnApplied, check: () => boolean, timeoutMs: number): Promise<boolean> {
  if (check()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(check());
    }, timeoutMs);
    const stop = onApplied(() => {
      if (!check()) return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
}
