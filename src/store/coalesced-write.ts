// A file that mirrors state which changes in bursts (the local snapshot, the local state of each index): a write is
// asked for after each change and happens after an interval, once, with the newest state captured at that moment;
// writes never overlap. Shared by snapshot.ts and local-state.ts.

export interface CoalescedWriteOptions<T> {
  /** At most one write per interval, with the newest state (default 1000 ms). */
  intervalMs?: number;
  /** Never writes (a DNS worker reads the primary's files). */
  readOnly?: boolean;
  /** Writes the captured state; handles (counts, logs) its own failures. */
  write(state: T): Promise<void>;
}

export class CoalescedWrite<T> {
  #capture: (() => T | Promise<T>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: CoalescedWriteOptions<T>) {}

  /** Asks for a write; `capture` runs when it happens, so a burst of changes costs one write of the newest state. */
  schedule(capture: () => T | Promise<T>): void {
    if (this.options.readOnly) return;
    this.#capture = capture;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.#write();
    }, this.options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Writes what is pending now (at shutdown), and waits for any write under way. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#write();
    }
    await this.#writing;
  }

  #write(): Promise<void> {
    const capture = this.#capture;
    this.#capture = undefined;
    if (!capture) return this.#writing;
    this.#writing = this.#writing.then(async () => this.options.write(await capture()));
    return this.#writing;
  }
}
