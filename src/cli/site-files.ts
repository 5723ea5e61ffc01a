// The files of a site directory as a deploy sends them: relative "/" paths, sizes and sha256, with an ignore list
// (defaults, `.edgednsignore` in the directory, --ignore). Hashing reads each file as a stream, a few at a time.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface LocalFile {
  /** Relative to the site directory, "/"-separated, no leading slash. */
  path: string;
  absolute: string;
  size: number;
  sha256: string;
}

/** What Cloudflare Pages' wrangler leaves out too, plus our own ignore file. */
export const DEFAULT_IGNORES = ['.git', '.DS_Store', 'node_modules', 'Thumbs.db', '.edgednsignore'];
export const IGNORE_FILE = '.edgednsignore';
const MAX_WALK_ENTRIES = 1_000_000;
const HASH_CONCURRENCY = 8;

/** A pattern matches a whole path ("drafts/*") or, without a "/", any single name along it ("*.map"). */
export function ignoreMatcher(patterns: string[]): (relative: string) => boolean {
  const compiled = patterns
    .map((p) => p.trim())
    .filter((p) => p !== '' && !p.startsWith('#'))
    .map((p) => {
      const clean = p.replace(/^\/+/, '').replace(/\/+$/, '');
      const re = new RegExp('^' + clean.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
      return { re, whole: clean.includes('/') };
    });
  return (relative) => {
    const names = relative.split('/');
    return compiled.some(({ re, whole }) => (whole ? re.test(relative) || names.some((_, i) => re.test(names.slice(0, i + 1).join('/'))) : names.some((n) => re.test(n))));
  };
}

export async function listSiteFiles(dir: string, extraIgnores: string[] = []): Promise<{ path: string; absolute: string; size: number }[]> {
  const root = path.resolve(dir);
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) throw new Error(`${dir} is not a directory`);
  const fromFile = await readFile(path.join(root, IGNORE_FILE), 'utf8').then((text) => text.split(/\r?\n/), () => []);
  const ignored = ignoreMatcher([...DEFAULT_IGNORES, ...fromFile, ...extraIgnores]);
  const files: { path: string; absolute: string; size: number }[] = [];
  const pending = [''];
  let seen = 0;
  while (pending.length > 0) {
    const relDir = pending.pop() as string;
    const entries = await readdir(path.join(root, relDir), { withFileTypes: true });
    for (const entry of entries) {
      if (++seen > MAX_WALK_ENTRIES) throw new Error(`${dir} holds more than ${MAX_WALK_ENTRIES} entries`);
      const relative = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      if (ignored(relative)) continue;
      const absolute = path.join(root, relative);
      // A symlink is followed when it points to a file; a linked directory is skipped so a loop cannot trap the walk.
      const info = entry.isSymbolicLink() ? await stat(absolute).catch(() => undefined) : await lstat(absolute);
      if (!info) continue;
      if (info.isDirectory()) {
        if (!entry.isSymbolicLink()) pending.push(relative);
      } else if (info.isFile()) files.push({ path: relative, absolute, size: info.size });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function hashFile(absolute: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(absolute)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Runs `work` over `items` with at most `limit` at once; the first failure rejects (the rest stop being started). */
export async function eachLimited<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await work(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

export async function hashSiteFiles(files: { path: string; absolute: string; size: number }[]): Promise<LocalFile[]> {
  const hashed: LocalFile[] = new Array(files.length);
  await eachLimited(files, HASH_CONCURRENCY, async (file, i) => {
    hashed[i] = { ...file, sha256: await hashFile(file.absolute) };
  });
  return hashed;
}
