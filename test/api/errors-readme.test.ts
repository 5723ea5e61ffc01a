// The error codes and the docs agree both ways (fastify's docs-list-every-code test, in our form): every code in
// src/errors.ts is documented with its status, and every documented code exists with that status.

import t from 'tap';
import { readFile } from 'node:fs/promises';
import { ErrorCodes } from '../../src/errors.js';

const DOCS = 'README.md';

/** "`not_found` 404" as the README's list writes it, or "| `not_found` | 404 |" as a table row. */
function documentedCodes(text: string): Map<string, number> {
  const codes = new Map<string, number>();
  for (const [, code, status] of text.matchAll(/`([a-z]+(?:_[a-z]+)*)`\s*\|?\s*([45]\d\d)\b/g)) codes.set(code, Number(status));
  return codes;
}

t.test(`${DOCS} lists every error code with its status`, async (t) => {
  const documented = documentedCodes(await readFile(DOCS, 'utf8'));
  for (const [code, status] of Object.entries(ErrorCodes)) t.equal(documented.get(code), status, `${code} ${status}`);
});

t.test(`every code ${DOCS} lists exists, with the status it says`, async (t) => {
  const documented = documentedCodes(await readFile(DOCS, 'utf8'));
  t.ok(documented.size > 0, 'the docs list codes');
  const known: Record<string, number> = ErrorCodes;
  for (const [code, status] of documented) t.equal(known[code], status, `${code} ${status}`);
});

t.test('statuses are client errors or 500', async (t) => {
  for (const [code, status] of Object.entries(ErrorCodes)) t.ok((status >= 400 && status < 500) || status === 500, `${code}: ${status}`);
});

t.test('src/errors.ts imports nothing, so every layer may throw its errors', async (t) => {
  const source = await readFile('src/errors.ts', 'utf8');
  t.notMatch(source, /^\s*(import|export)\b[^;]*\bfrom\s/m);
});
