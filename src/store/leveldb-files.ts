// What the embedded store's LevelDB directory says about itself before and while it is used. LevelDB treats a
// directory without CURRENT as no database at all: it would create an empty one and delete the old data files as
// obsolete. So a directory that holds data files but no CURRENT (or a CURRENT naming a missing manifest) is refused,
// with the file named and what to do. And LevelDB's errors are sorted: I/O (a full disk), corruption.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { StoreDamagedError } from './store.js';

const DATA_FILE = /^(\d+\.(ldb|log|sst)|MANIFEST-\d+)$/;

/** Throws StoreDamagedError when `dir` holds LevelDB data files that LevelDB could not open without losing them. */
export async function assertIntact(dir: string): Promise<void> {
  const files = await readdir(dir);
  const data = files.filter((f) => DATA_FILE.test(f));
  if (data.length === 0) return; // a new store, or an empty directory: LevelDB creates it
  const current = path.join(dir, 'CURRENT');
  if (!files.includes('CURRENT')) {
    throw damaged(dir, `${current} is missing, although ${data.length} data file(s) are there (${data.slice(0, 4).join(', ')}${data.length > 4 ? ', …' : ''})`);
  }
  const manifest = (await readFile(current, 'utf8')).trim();
  if (!/^MANIFEST-\d+$/.test(manifest)) throw damaged(dir, `${current} does not name a manifest (it holds ${JSON.stringify(manifest.slice(0, 40))})`);
  if (!files.includes(manifest)) throw damaged(dir, `${current} names ${manifest}, which is missing`);
}

export function damaged(dir: string, detail: string): StoreDamagedError {
  return new StoreDamagedError(
    `the embedded store in ${dir} is damaged: ${detail}. edgedns will not start on it, so that nothing there is ` +
      `overwritten or deleted. To recover: restore ${dir} from a backup; or, if this node gets its data from a cluster ` +
      `(--replicate-from), move ${dir} aside and start again to fill a new store; or repair it with LevelDB's RepairDB ` +
      `(a copy first). Then start the node again.`,
  );
}

function message(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' ? (err as { message: string }).message : '';
}

/** LevelDB (through PouchDB) failed to read or write its files: "IO error: …". */
export function isIoError(err: unknown): boolean {
  return /^IO error\b|No space left on device|ENOSPC/.test(message(err));
}

export function isNoSpace(err: unknown): boolean {
  return /No space left on device|ENOSPC/.test(message(err));
}

export function isCorruption(err: unknown): boolean {
  return /^Corruption\b|corrupted/i.test(message(err));
}
