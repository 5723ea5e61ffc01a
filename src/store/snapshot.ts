// The local snapshot of the last good zone data: the documents the node serves plus the checkpoint they reflect, in
// one file written atomically. A node that starts while its database is unreachable serves this; when the store is
// back it catches up from the checkpoint instead of reading everything again.
//
// Issue 13: a snapshot of a 100,000-RRset zone is ~20 MB of JSON. It is captured and written in slices (the
// capture may be asynchronous, the text is made a few hundred documents at a time), so writing it never holds up
// the answers. A capture that takes a while is still consistent for a restart: its checkpoint is taken first, and
// catching up from it brings again everything that changed while the documents were gathered.

import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { StoredDoc } from './store.js';
import { readCheckpointedDocs, writeFileAtomic, type Checkpoint } from './checkpoint.js';
import { CoalescedWrite } from './coalesced-write.js';

export const SNAPSHOT_FILE = 'sync-snapshot.json';
const FORMAT = 1;

export interface Snapshot {
  checkpoint: Checkpoint;
  /**
   * The documents, handed over as they are written: an iterable that makes them one at a time lets a 100,000-RRset
   * zone be written without all of its documents in memory at once (issue 13: peak memory of a big import).
   */
  docs: Iterable<StoredDoc>;
}

/** Documents turned into text between two turns of the event loop. */
const DOCS_PER_SLICE = 500;

/** The snapshot file's text, made in slices: the same JSON as one JSON.stringify of {format, checkpoint, docs}. */
async function snapshotText(snapshot: Snapshot): Promise<string> {
  const parts: string[] = [`{"format":${FORMAT},"checkpoint":${JSON.stringify(snapshot.checkpoint)},"docs":[`];
  let slice: string[] = [];
  let first = true;
  const flush = async (): Promise<void> => {
    parts.push((first ? '' : ',') + slice.join(','));
    first = false;
    slice = [];
    await new Promise((resolve) => setImmediate(resolve));
  };
  for (const doc of snapshot.docs) {
    slice.push(JSON.stringify(doc));
    if (slice.length >= DOCS_PER_SLICE) await flush();
  }
  if (slice.length > 0) await flush();
  parts.push(']}');
  return parts.join('');
}

export interface SnapshotStoreOptions {
  dataDir: string;
  logger: Logger;
  registry: Registry;
  /** Writes are coalesced: at most one per interval, with the newest state (default 1000 ms). */
  intervalMs?: number;
  /** A DNS worker (--workers) starts from the primary's snapshot but leaves writing it to the primary. */
  readOnly?: boolean;
}

export class SnapshotStore {
  readonly file: string;
  readonly #writes: Counter<'result'>;
  readonly #writer: CoalescedWrite<Snapshot>;

  constructor(private readonly options: SnapshotStoreOptions) {
    this.file = path.join(options.dataDir, SNAPSHOT_FILE);
    this.#writes = new Counter({
      name: 'edgedns_store_snapshot_writes_total',
      help: 'Local snapshots of the zone data written, by result',
      labelNames: ['result'],
      registers: [options.registry],
    });
    this.#writer = new CoalescedWrite({
      intervalMs: options.intervalMs,
      readOnly: options.readOnly,
      write: async (snapshot) => {
        try {
          await writeFileAtomic(this.file, await snapshotText(snapshot));
          this.#writes.labels('ok').inc();
        } catch (err) {
          this.#writes.labels('failed').inc();
          this.options.logger.warn({ file: this.file, err: (err as Error).message }, 'writing the snapshot failed; the previous one stays');
        }
      },
    });
  }

  /** The snapshot on disk, or undefined when there is none or it cannot be read (logged: a full read follows). */
  async load(): Promise<Snapshot | undefined> {
    try {
      const read = await readCheckpointedDocs(this.file, FORMAT);
      if (read === 'unknown-format') this.options.logger.warn({ file: this.file }, 'ignoring a snapshot in an unknown format');
      return read === 'unknown-format' ? undefined : read;
    } catch (err) {
      this.options.logger.warn({ file: this.file, err: (err as Error).message }, 'ignoring an unreadable snapshot');
      return undefined;
    }
  }

  /**
   * Asks for a write. `capture` is called when the write happens, so a burst of changes costs one write holding the
   * newest state, and the documents and the checkpoint always come from the same moment.
   */
  schedule(capture: () => Snapshot | Promise<Snapshot>): void {
    this.#writer.schedule(capture);
  }

  /** Writes a pending snapshot now (at shutdown), and waits for any write under way. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }
}
