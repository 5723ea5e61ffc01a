// The one way tests wait for something that happens on its own (a write replicated, a probe round, a worker
// started again): ask again every intervalMs until the condition holds, and fail after timeoutMs saying what was
// awaited and what was seen last. Every wait is bounded in time.

import { inspect } from 'node:util';

export interface WaitOptions {
  /** What is awaited, as the failure message ends: "timed out after 5000 ms waiting for <what>". */
  what: string;
  timeoutMs: number;
  /** Pause between two tries (default 50 ms). */
  intervalMs?: number;
}

export interface Waited<T> {
  /** What the condition returned when it held. */
  value: T;
  /** How long it took, from the first try. */
  ms: number;
}

export class WaitTimeout extends Error {}

/**
 * Calls `condition` until it returns a truthy value, which is returned with the time it took. A condition that
 * throws counts as "not yet" (a node still starting, a database down); the last value or error it gave is in the
 * message of the WaitTimeout thrown when time runs out.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions): Promise<Waited<NonNullable<T>>> {
  const intervalMs = options.intervalMs ?? 50;
  const started = Date.now();
  let last = 'no answer yet';
  for (;;) {
    try {
      const value = await condition();
      if (value) return { value: value as NonNullable<T>, ms: Date.now() - started };
      last = `the condition gave ${inspect(value)}`;
    } catch (err) {
      last = `the condition threw: ${err instanceof Error ? err.message : inspect(err)}`;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= options.timeoutMs) throw new WaitTimeout(`timed out after ${elapsed} ms waiting for ${options.what} (${last})`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, options.timeoutMs - elapsed)));
  }
}
