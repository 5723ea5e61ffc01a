// Local state: what each index needs to answer and serve (geo edges, pools and health; sites and manifests; API
// keys), kept on the node's own disk as one file per index in <data>/local-state/, with the checkpoint the documents
// reflect. A node that starts while its store is unreachable serves these (the zones have their own snapshot,
// sync-snapshot.json); once the store answers it catches up from the checkpoint. Files are written whole and
// renamed, coalesced to at most one write per interval, and only after something changed.

import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { readCheckpointedDocs, writeFileAtomic, type Checkpoint } from './checkpoint.js';
import { CoalescedWrite } from './coalesced-write.js';
import type { StoredDoc } from './store.js';

export const LOCAL_STATE_DIR = 'local-state';
const FORMAT = 1;

export interface LocalCopy {
  checkpoint: Checkpoint;
  docs: StoredDoc[];
}

export interface LocalStateOptions {
  dataDir: string;
  logger: Logger;
  registry: Registry;
  /** Writes are coalesced: at most one per interval per file, with the newest state (default 1000 ms). */
  intervalMs?: number;
  /** DNS workers (--workers) read the primary's files and never write them. */
  readOnly?: boolean;
}

/** The local-state directory of one node, and its write counter. */
export class LocalState {
  readonly dir: string;
  readonly #writes: Counter<'index' | 'result'>;
  readonly #files = new Map<string, LocalStateFile>();

  constructor(readonly options: LocalStateOptions) {
    this.dir = path.join(options.dataDir, LOCAL_STATE_DIR);
    this.#writes = new Counter({
      name: 'edgedns_local_state_writes_total',
      help: 'Local state files written (per index: geo, pages, keys), by result',
      labelNames: ['index', 'result'],
      registers: [options.registry],
    });
  }

  /** The file of one index ("geo", "pages", "keys"). */
  file(name: string): LocalStateFile {
    let file = this.#files.get(name);
    if (!file) {
      file = new LocalStateFile(path.join(this.dir, `${name}.json`), this.options, (result) => this.#writes.labels(name, result).inc());
      this.#files.set(name, file);
    }
    return file;
  }

  /** Writes whatever is pending, and waits for writes under way (at shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.#files.values()].map((f) => f.flush()));
  }
}

export class LocalStateFile {
  readonly #writer: CoalescedWrite<LocalCopy>;

  constructor(
    readonly path: string,
    private readonly options: LocalStateOptions,
    counted: (result: 'ok' | 'failed') => void,
  ) {
    this.#writer = new CoalescedWrite({
      intervalMs: options.intervalMs,
      readOnly: options.readOnly,
      write: async (copy) => {
        try {
          await writeFileAtomic(this.path, JSON.stringify({ format: FORMAT, ...copy }));
          counted('ok');
        } catch (err) {
          counted('failed');
          this.options.logger.warn({ file: this.path, err: (err as Error).message }, 'writing local state failed; the previous file stays');
        }
      },
    });
  }

  /** What the file holds, or undefined when there is none or it cannot be read (logged: the store is read instead). */
  async load(): Promise<LocalCopy | undefined> {
    try {
      const read = await readCheckpointedDocs(this.path, FORMAT);
      if (read === 'unknown-format') this.options.logger.warn({ file: this.path }, 'ignoring local state in an unknown format');
      return read === 'unknown-format' ? undefined : read;
    } catch (err) {
      this.options.logger.warn({ file: this.path, err: (err as Error).message }, 'ignoring unreadable local state');
      return undefined;
    }
  }

  /** Asks for a write; `capture` runs when it happens, so a burst of changes costs one write of the newest state. */
  schedule(capture: () => LocalCopy): void {
    this.#writer.schedule(capture);
  }

  flush(): Promise<void> {
    return this.#writer.flush();
  }
}
