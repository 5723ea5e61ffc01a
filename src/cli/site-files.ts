// The files of a site directory as a deploy sends them: relative "/" paths, sizes and sha256, with an ignore list
// (defaults, `.edgednsignore` in the directory, --ignore). Hashing reads each file as a stream, a few at a time.
//
// A site folder is not trusted to stay inside itself: a symbolic link to /proc/self/environ or ~/.ssh/id_ed25519
// would publish the deploying machine's secrets to the world. So links are refused, naming the path, unless
// --follow-symlinks is given, and even then a link whose target resolves outside the folder is refused. Dotfiles
// (.env, .git, .npmrc) are left out unless --include-dotfiles is given, and the deploy says which; .well-known is
// published, since it exists to be (RFC 8615). Files are opened with O_NOFOLLOW, so a file swapped for a link
// between the listing and the upload is not read through it either.

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface ListedFile {
  /** Relative to the site directory, "/"-separated, no leading slash: the path it is published under. */
  path: string;
  /** Where its bytes are read from: inside the site directory, a followed link's target resolved. */
  absolute: string;
  size: number;
}

export interface LocalFile extends ListedFile {
  sha256: string;
}

export interface ListOptions {
  /** More names or paths to leave out ("*" within a name), beside the defaults and `.edgednsignore`. */
  ignores?: string[];
  /** Follow symbolic links whose target resolves inside the site directory (outside ones are still refused). */
  followSymlinks?: boolean;
  /** Publish names that start with a dot. */
  includeDotfiles?: boolean;
}

export interface SkippedEntry {
  /** Relative path; a directory ends with "/". */
  path: string;
  reason: 'dotfile' | 'not a regular file' | 'link loop';
}

export interface SiteListing {
  files: ListedFile[];
  /** What was left out that the user may not expect (ignore patterns are expected, so not listed). */
  skipped: SkippedEntry[];
}

/** The site folder holds something a deploy refuses to publish; the message names the path. */
export class SiteFolderError extends Error {}

/** What Cloudflare Pages' wrangler leaves out too, plus our own ignore file; kept with --include-dotfiles. */
export const DEFAULT_IGNORES = ['.git', '.DS_Store', 'node_modules', 'Thumbs.db', '.edgednsignore'];
export const IGNORE_FILE = '.edgednsignore';
/** Names starting with a dot that are published anyway: well-known URIs exist to be served (RFC 8615). */
const PUBLISHED_DOT_NAMES = new Set(['.well-known']);
const MAX_WALK_ENTRIES = 1_000_000;
const HASH_CONCURRENCY = 8;
const MAX_IGNORE_FILE_BYTES = 1024 * 1024;
// O_NOFOLLOW: opening a symbolic link fails (ELOOP) instead of reading its target. Not defined on Windows.
const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

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

function isInside(root: string, target: string): boolean {
  return target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Opens a file for reading without following a link in its last component. */
async function openNoFollow(absolute: string, shown: string): Promise<FileHandle> {
  try {
    return await open(absolute, READ_NO_FOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new SiteFolderError(`${shown} became a symbolic link while deploying; refusing to read it`);
    throw err;
  }
}

async function readIgnoreFile(root: string): Promise<string[]> {
  const file = path.join(root, IGNORE_FILE);
  const info = await lstat(file).catch(() => undefined);
  if (!info) return [];
  if (!info.isFile()) throw new SiteFolderError(`${IGNORE_FILE} is not a regular file (a link or a directory); write the patterns in a plain file`);
  if (info.size > MAX_IGNORE_FILE_BYTES) throw new SiteFolderError(`${IGNORE_FILE} is over ${MAX_IGNORE_FILE_BYTES} bytes`);
  const handle = await openNoFollow(file, IGNORE_FILE);
  try {
    return (await handle.readFile('utf8')).split(/\r?\n/);
  } finally {
    await handle.close();
  }
}

interface PendingDir {
  relative: string;
  real: string;
  /** Real paths of the directories above, to notice a followed link that leads back up (a loop). */
  ancestors: ReadonlySet<string>;
}

/**
 * The files a deploy of `dir` publishes. Throws SiteFolderError, naming the path, for a symbolic link (without
 * `followSymlinks`) or a link whose target is outside `dir` (always).
 */
export async function listSiteFiles(dir: string, options: ListOptions = {}): Promise<SiteListing> {
  // The folder itself may be reached through a link: that is the path the user typed, so it is taken as given.
  const root = await realpath(path.resolve(dir)).catch(() => undefined);
  const rootStat = root === undefined ? undefined : await stat(root).catch(() => undefined);
  if (root === undefined || !rootStat?.isDirectory()) throw new Error(`${dir} is not a directory`);
  const ignored = ignoreMatcher([...DEFAULT_IGNORES, ...(await readIgnoreFile(root)), ...(options.ignores ?? [])]);
  const files: ListedFile[] = [];
  const skipped: SkippedEntry[] = [];
  const pending: PendingDir[] = [{ relative: '', real: root, ancestors: new Set([root]) }];
  let seen = 0;
  while (pending.length > 0) {
    const current = pending.pop() as PendingDir;
    const entries = await readdir(current.real, { withFileTypes: true });
    for (const entry of entries) {
      if (++seen > MAX_WALK_ENTRIES) throw new SiteFolderError(`${dir} holds more than ${MAX_WALK_ENTRIES} entries`);
      const relative = current.relative === '' ? entry.name : `${current.relative}/${entry.name}`;
      if (!options.includeDotfiles && entry.name.startsWith('.') && !PUBLISHED_DOT_NAMES.has(entry.name)) {
        skipped.push({ path: entry.isDirectory() ? relative + '/' : relative, reason: 'dotfile' });
        continue;
      }
      if (ignored(relative)) continue;
      let absolute = path.join(current.real, entry.name);
      let info = await lstat(absolute);
      if (info.isSymbolicLink()) {
        const target = await readlink(absolute).catch(() => '?');
        if (!options.followSymlinks) {
          throw new SiteFolderError(
            `${relative} is a symbolic link (to ${target}); deploy does not follow links: copy the file into the folder, or pass --follow-symlinks to follow links that stay inside it`,
          );
        }
        const resolved = await realpath(absolute).catch(() => undefined);
        if (resolved === undefined) throw new SiteFolderError(`${relative} is a symbolic link to ${target}, which does not exist`);
        if (!isInside(root, resolved)) {
          throw new SiteFolderError(
            `${relative} is a symbolic link to ${target}${resolved === target ? '' : ` (${resolved})`}, outside ${dir}; links are only followed within the folder, so it is not published`,
          );
        }
        absolute = resolved;
        info = await lstat(resolved); // a real path has no link left in it
      }
      if (info.isDirectory()) {
        if (current.ancestors.has(absolute)) {
          skipped.push({ path: relative + '/', reason: 'link loop' });
          continue;
        }
        pending.push({ relative, real: absolute, ancestors: new Set([...current.ancestors, absolute]) });
      } else if (info.isFile()) files.push({ path: relative, absolute, size: info.size });
      else skipped.push({ path: relative, reason: 'not a regular file' });
    }
  }
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return { files: files.sort(byPath), skipped: skipped.sort(byPath) };
}

/** The file's bytes, read without following a link, refused when its size changed since it was listed. */
export async function readSiteFile(file: ListedFile): Promise<Buffer<ArrayBuffer>> {
  const handle = await openNoFollow(file.absolute, file.path);
  try {
    const data = await handle.readFile();
    if (data.length !== file.size) throw new SiteFolderError(`${file.path} changed while deploying (${file.size} bytes, now ${data.length}); deploy again`);
    return data;
  } finally {
    await handle.close();
  }
}

export async function hashFile(file: ListedFile): Promise<string> {
  const handle = await openNoFollow(file.absolute, file.path);
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    // The stream owns the handle and closes it at the end or on an error.
    handle
      .createReadStream()
      .on('data', (chunk: Buffer | string) => {
        size += chunk.length; // no encoding was set: every chunk is a Buffer
        hash.update(chunk);
      })
      .on('error', reject)
      .on('end', () => {
        if (size !== file.size) reject(new SiteFolderError(`${file.path} changed while deploying (${file.size} bytes, now ${size}); deploy again`));
        else resolve(hash.digest('hex'));
      });
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

export async function hashSiteFiles(files: ListedFile[]): Promise<LocalFile[]> {
  const hashed: LocalFile[] = new Array(files.length);
  await eachLimited(files, HASH_CONCURRENCY, async (file, i) => {
    hashed[i] = { ...file, sha256: await hashFile(file) };
  });
  return hashed;
}

/** The paths skipped for `reason`, as "a, b, c, and 4 more"; undefined when there are none. */
export function skippedList(skipped: SkippedEntry[], reason: SkippedEntry['reason'], shown = 10): { count: number; list: string } | undefined {
  const paths = skipped.filter((s) => s.reason === reason).map((s) => s.path);
  if (paths.length === 0) return undefined;
  return { count: paths.length, list: paths.slice(0, shown).join(', ') + (paths.length > shown ? `, and ${paths.length - shown} more` : '') };
}
