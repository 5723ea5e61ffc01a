// Every error code the API can return is listed in the README with its status (fastify's docs-lists-every-code
// test, in our form), and each code's status is one the issues allow.

import t from 'tap';
import { readFile } from 'node:fs/promises';
import { ErrorCodes } from '../../src/api/errors.js';

t.test('the README lists every error code with its status', async (t) => {
  const readme = await readFile('README.md', 'utf8');
  for (const [code, status] of Object.entries(ErrorCodes)) {
    t.match(readme, new RegExp('`' + code + '`\\s+' + status + '\\b'), `${code} ${status} is in the README`);
  }
});

t.test('statuses are client errors, 500, or the store failures: 503 (unavailable) and 507 (disk full)', async (t) => {
  for (const [code, status] of Object.entries(ErrorCodes)) t.ok((status >= 400 && status < 500) || [500, 503, 507].includes(status), `${code}: ${status}`);
});
