// Which file (or redirect) answers a path in one deployment: `_redirects` first, then the exact file, clean URLs and
// index.html, then the nearest 404.html. Pure and synchronous over the in-memory manifest; the only way from a URL
// to bytes is a key of that map, so "..", encoded slashes and the like simply find nothing.
// HTML handling follows Cloudflare Pages: /about serves about.html, /about.html → 308 /about, /dir → 308 /dir/,
// /dir/index.html → 308 /dir/, /about/ → 308 /about when only about.html exists.

import type { FileEntry } from './model.js';
import type { LiveDeployment } from './pages-index.js';
import { findRedirect } from './rules.js';

export type Resolution =
  | { kind: 'file'; path: string; entry: FileEntry; status: 200 | 404 }
  | { kind: 'redirect'; location: string; status: number }
  | { kind: 'not_found' };

export function resolvePath(deployment: LiveDeployment, path: string, search: string): Resolution {
  const redirect = findRedirect(deployment.redirects, path);
  if (redirect) {
    if (redirect.status !== 200) {
      const location = redirect.to.includes('?') || search === '' ? redirect.to : redirect.to + search;
      return { kind: 'redirect', location, status: redirect.status };
    }
    // A 200 rule serves another path of the same deployment; only the first rule applies (no chains).
    // The target is named exactly, so /app/index.html is served as is rather than redirected to /app/.
    const target = redirect.to.split(/[?#]/)[0];
    const exact = deployment.files.get(target);
    if (exact) return { kind: 'file', path: target, entry: exact, status: 200 };
    return findAsset(deployment, target, search) ?? notFound(deployment, target);
  }
  return findAsset(deployment, path, search) ?? notFound(deployment, path);
}

function findAsset(deployment: LiveDeployment, path: string, search: string): Resolution | undefined {
  const files = deployment.files;
  const file = (p: string): Resolution | undefined => {
    const entry = files.get(p);
    return entry ? { kind: 'file', path: p, entry, status: 200 } : undefined;
  };
  const moved = (location: string): Resolution => ({ kind: 'redirect', location: location + search, status: 308 });

  if (path.endsWith('/')) {
    const index = file(path + 'index.html');
    if (index) return index;
    if (path !== '/' && files.has(path.slice(0, -1) + '.html')) return moved(path.slice(0, -1));
    return undefined;
  }
  if (path.endsWith('/index.html') && files.has(path)) return moved(path.slice(0, -'index.html'.length));
  if (path.endsWith('.html') && files.has(path)) return moved(path.slice(0, -'.html'.length));
  return file(path) ?? file(path + '.html') ?? (files.has(path + '/index.html') ? moved(path + '/') : undefined);
}

/** The 404.html nearest to the path, walking up its directories, served with status 404. */
function notFound(deployment: LiveDeployment, path: string): Resolution {
  let dir = path.slice(0, path.lastIndexOf('/') + 1);
  for (let depth = 0; depth < 64; depth++) {
    const entry = deployment.files.get(dir + '404.html');
    if (entry) return { kind: 'file', path: dir + '404.html', entry, status: 404 };
    if (dir === '/') break;
    dir = dir.slice(0, dir.lastIndexOf('/', dir.length - 2) + 1);
  }
  return { kind: 'not_found' };
}
