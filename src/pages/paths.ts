// Deploy paths and their content types. A path is checked once, at deploy, and is then only ever a key of the
// manifest: a request is looked up in that map, never joined onto a directory, so traversal has nothing to reach.

import { MAX_FILE_BYTES, SHA256_RE, type FileEntry } from './model.js';
import { PathError } from '../errors.js';

export const MAX_PATH_LENGTH = 1024;
const MAX_SEGMENT_LENGTH = 255;

export { PathError };

/** "/a/b.html" for "a/b.html" or "/a/b.html"; throws PathError naming the path when it is not acceptable. */
export function normalizeDeployPath(raw: string): string {
  if (raw.length === 0) throw new PathError(raw, 'is empty');
  if (raw.length > MAX_PATH_LENGTH) throw new PathError(raw.slice(0, 64) + '…', `is longer than ${MAX_PATH_LENGTH} characters`);
  if (raw.includes('\0')) throw new PathError(raw, 'contains a NUL byte');
  if (raw.includes('\\')) throw new PathError(raw, 'contains a backslash; use "/" between directories');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new PathError(raw, 'contains a control character');
  const path = raw.startsWith('/') ? raw : '/' + raw;
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '') throw new PathError(raw, 'has an empty segment (doubled or trailing "/")');
    if (segment === '.' || segment === '..') throw new PathError(raw, `has a "${segment}" segment`);
    if (segment.length > MAX_SEGMENT_LENGTH) throw new PathError(raw, `has a segment longer than ${MAX_SEGMENT_LENGTH} characters`);
  }
  return path;
}

export function checkEntry(path: string, entry: { sha256?: unknown; size?: unknown }, maxFileBytes = MAX_FILE_BYTES): { sha256: string; size: number } {
  if (typeof entry.sha256 !== 'string' || !SHA256_RE.test(entry.sha256)) throw new PathError(path, 'sha256 must be 64 lower-case hex digits');
  if (typeof entry.size !== 'number' || !Number.isInteger(entry.size) || entry.size < 0) throw new PathError(path, 'size must be a whole number of bytes');
  if (entry.size > maxFileBytes) throw new PathError(path, `is ${entry.size} bytes, over the limit of ${maxFileBytes} bytes per file`);
  return { sha256: entry.sha256, size: entry.size };
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  map: 'application/json',
  webmanifest: 'application/manifest+json',
  xml: 'application/xml',
  rss: 'application/rss+xml',
  atom: 'application/atom+xml',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
};

export function contentTypeFor(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot <= slash + 1) return 'application/octet-stream';
  return TYPES[path.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

export function isHtml(entry: FileEntry): boolean {
  return entry.contentType.startsWith('text/html');
}

/**
 * A file whose name carries a content hash ("app.3f9a1c2e.js", "main-BxK4p9Qa.css") changes name when it changes,
 * so it may be cached for long; anything else must be revalidated.
 */
export function isFingerprinted(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return /[.-](?=[A-Za-z0-9_]*\d)[A-Za-z0-9_]{8,}\.[a-z0-9]+$/.test(name) && !name.endsWith('.html');
}
