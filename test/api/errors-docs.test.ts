// The error codes table of docs/api.md and the API's error codes are the same list, checked both ways (fastify's
// docs-list-every-code test, in our form): every code the API can return is documented with its status, and every
// documented code exists with that status. Each status is a client error or 500.

import t from 'tap';
import { readFile } from 'node:fs/promises';
import { ErrorCodes } from '../../src/errors.js';

const DOC = 'docs/api.md';

/** Rows of the form | `code` | status | … | from the page's error table. */
async function documentedCodes(): Promise<Map<string, number>> {
  const text = await readFile(DOC, 'utf8');
  const rows = new Map<string, number>();
  for (const m of text.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)) rows.set(m[1] as string, Number(m[2]));
  return rows;
}

t.test(`${DOC} lists every error code with its status`, async (t) => {
  const documented = await documentedCodes();
  for (const [code, status] of Object.entries(ErrorCodes)) t.equal(documented.get(code), status, `${code} ${status} is in ${DOC}`);
});

t.test(`every code ${DOC} lists is one the API returns, with that status`, async (t) => {
  const documented = await documentedCodes();
  t.ok(documented.size > 0, `${DOC} has an error table`);
  const codes: Record<string, number> = ErrorCodes;
  for (const [code, status] of documented) t.equal(codes[code], status, `${code} ${status} is in src/errors.ts`);
});

t.test('statuses are client errors or 500', async (t) => {
  for (const [code, status] of Object.entries(ErrorCodes)) t.ok((status >= 400 && status < 500) || status === 500, `${code}: ${status}`);
});

t.test('src/errors.ts imports nothing, so every layer may throw its errors', async (t) => {
  const source = await readFile('src/errors.ts', 'utf8');
  t.notMatch(source, /^\s*(import|export)\b[^;]*\bfrom\s/m);
});
