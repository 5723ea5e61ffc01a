// edgedns's version as its package.json says, read once at run time: /healthz reports it and `edgedns --version`
// prints it. The file is found by walking up from this module, which runs from src/ (tests), dist/ (installed)
// and dist-bench/src/ (benchmarks).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'edgedns';
let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++, dir = path.dirname(dir)) {
    let manifest: { name?: unknown; version?: unknown };
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as typeof manifest;
    } catch {
      continue; // none here (or unreadable): look one folder up
    }
    if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') return (cached = manifest.version);
  }
  throw new Error(`no package.json of ${PACKAGE_NAME} with a "version" above ${fileURLToPath(import.meta.url)}`);
}
