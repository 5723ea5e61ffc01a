// Locating the external programs the tests drive (knotd, dig, ...). A missing tool is a failed test with a message
// saying how to install it, never a skipped one: a skipped differential test passes silently.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Where each tool comes from on Debian; .ci/run installs these packages. */
const DEBIAN_PACKAGE: Record<string, string> = {
  knotd: 'knot',
  knotc: 'knot',
  kdig: 'knot-dnsutils',
  dig: 'bind9-dnsutils',
  'named-checkzone': 'bind9-utils',
  pebble: 'pebble',
  certbot: 'certbot',
  lego: 'lego',
  openssl: 'openssl',
  lexicon: 'lexicon',
  knsupdate: 'knot-dnsutils',
  nsupdate: 'bind9-dnsutils',
  promtool: 'prometheus',
  'docker-compose': 'docker-compose',
  'systemd-analyze': 'systemd',
};

/** sbin directories are often missing from a non-root PATH, and knotd lives there. */
const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

const found = new Map<string, string>();

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of an executable, or undefined; searches PATH, then the sbin directories. */
export function findTool(name: string): string | undefined {
  const cached = found.get(name);
  if (cached !== undefined) return cached;
  if (isAbsolute(name)) return isExecutableFile(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) {
      found.set(name, candidate);
      return candidate;
    }
  }
  return undefined;
}

/** The absolute path of an executable; throws an Error naming the Debian package that provides it. */
export function requireTool(name: string): string {
  const path = findTool(name);
  if (path !== undefined) return path;
  const pkg = DEBIAN_PACKAGE[name];
  const hint =
    pkg === undefined
      ? 'install it and make sure it is on PATH'
      : `install Debian package ${pkg} (apt-get install -y ${pkg}); .ci/run installs it`;
  throw new Error(`${name} not found on PATH or in ${EXTRA_DIRS.join(', ')}: ${hint}`);
}
