// The changes-feed checkpoint kept on local disk: the last processed sequence (an opaque string, only ever handed
// back to the store that issued it), which store issued it, and when the data was last in sync. Files are written
// whole to a temporary name and renamed, so a crash leaves the old file or the new one, never half of one.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StoredDoc } from './store.js';

export interface Checkpoint {
  /** Opaque: never parsed or compared, only passed back as `since`. */
  seq: string;
  /** The store's description ("couchdb:http://host:5984/edgedns_data"): a seq is only meaningful to its issuer. */
  storeId: string;
  /** When the data at `seq` was last known to equal the store's (ISO time). */
  syncedAt: string;
}

export function isCheckpoint(value: unknown): value is Checkpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c.seq === 'string' && typeof c.storeId === 'string' && typeof c.syncedAt === 'string' && !Number.isNaN(Date.parse(c.syncedAt));
}

/** Writes `text` to `file` atomically (temporary file in the same directory, then rename). */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o600 });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** The parsed JSON of `file`, or undefined when it does not exist. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as unknown;
}

/**
 * A file of documents and the checkpoint they reflect, `{format, checkpoint, docs}`: undefined when there is none,
 * 'unknown-format' when it is not of `format`; throws when it cannot be read or parsed.
 */
export async function readCheckpointedDocs(file: string, format: number): Promise<{ checkpoint: Checkpoint; docs: StoredDoc[] } | 'unknown-format' | undefined> {
  const parsed = (await readJsonFile(file)) as { format?: unknown; checkpoint?: unknown; docs?: unknown } | undefined;
  if (parsed === undefined) return undefined;
  if (parsed.format !== format || !isCheckpoint(parsed.checkpoint) || !Array.isArray(parsed.docs)) return 'unknown-format';
  const docs = parsed.docs.filter((d): d is StoredDoc => typeof d === 'object' && d !== null && typeof (d as StoredDoc)._id === 'string');
  return { checkpoint: parsed.checkpoint, docs };
}
