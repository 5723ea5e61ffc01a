// Deployment limits, on the deploy service over a real embedded store: files per deployment (configurable) and
// aliases, which make one site answer for several hostnames.

import t from 'tap';
import { BlobCache } from '../../src/pages/blob-cache.js';
import { DeployService, PagesError } from '../../src/pages/deploy-service.js';
import { startTestNode } from '../helpers/node.js';
import { deployTree, get, pagesParts, sha256 } from './pages-helpers.js';

t.test('more files than the limit is refused before anything is written', async (t) => {
  const { store, logger, metrics, index } = await pagesParts(t);
  const service = new DeployService({ store, index, metrics, logger, blobs: new BlobCache(store, 0, metrics), maxFiles: 2 });
  const entry = { sha256: sha256('x'), size: 1 };
  const err = await service.commit({ site: 'a.example.test', files: { a: entry, b: entry, c: entry }, author: 'test', production: true }).catch((e: unknown) => e);
  t.ok(err instanceof PagesError);
  t.match(err, { code: 'too_many_files', message: /3 files is over the limit of 2/ });
  t.same(await store.list('site/'), [], 'no site written');
});

t.test('an alias serves the site; deploying to the alias is refused', async (t) => {
  const node = await startTestNode();
  t.teardown(() => node.close());
  await deployTree(node, 'main.example.test', { 'index.html': 'main' });
  const set = await node.api('PUT', '/v1/sites/main.example.test', { body: { aliases: ['www.main.example.test'] } });
  t.equal(set.status, 200);
  t.same(set.body.aliases, ['www.main.example.test']);
  t.equal((await get(node.httpPort, 'www.main.example.test', '/')).body.toString(), 'main');
  const refused = await deployTree(node, 'www.main.example.test', { 'index.html': 'x' });
  t.equal(refused.result.status, 409);
  t.match(refused.result.body.error, { code: 'conflict', field: 'host' });
  const taken = await node.api('PUT', '/v1/sites/other.example.test', { body: { aliases: ['www.main.example.test'] } });
  t.equal(taken.status, 409, 'an alias belongs to one site');
});
