// Issue 13, item 7: skew protection. Right after a production switch, a page loaded from the old deployment asks
// for its old fingerprinted assets: for a grace period (--pages-skew-grace) a path the new deployment lacks is
// served from the previous production deployment, counted in edgedns_pages_skew_served_total; after it, 404.

import t from 'tap';
import { startTestNode } from '../helpers/node.js';
import { deployTree } from '../pages/pages-helpers.js';
import { page, sleep } from './fault-helpers.js';

const node = await startTestNode({ nodeId: 'skew', flags: { 'pages-skew-grace': '2' } });
t.teardown(() => node.close());
const SITE = 'skew.test';

t.test('a path missing from the new production deployment is served from the previous one during the grace period', async (t) => {
  const v1 = await deployTree(node, SITE, { '/index.html': '<link href=/app.11111111.css>', '/app.11111111.css': 'v1 css', '/404.html': 'gone' });
  t.equal(v1.result.status, 201);
  const v2 = await deployTree(node, SITE, { '/index.html': '<link href=/app.22222222.css>', '/app.22222222.css': 'v2 css', '/404.html': 'gone' });
  t.equal(v2.result.status, 201);
  const switched = Date.now();

  const index = await page(node, SITE, '/');
  t.equal(index.headers['x-edgedns-deployment'], v2.result.body.id, 'production is the new deployment');
  const old = await page(node, SITE, '/app.11111111.css');
  t.equal(old.status, 200, 'the old fingerprinted asset is still served');
  t.equal(old.body, 'v1 css');
  t.equal(old.headers['x-edgedns-deployment'], v1.result.body.id, 'from the previous deployment, and it says so');
  t.equal((await page(node, SITE, '/app.22222222.css')).body, 'v2 css', 'paths the new deployment has come from it');
  const missing = await page(node, SITE, '/app.33333333.css');
  t.equal(missing.status, 404, 'a path neither has is 404');
  t.equal(missing.body, 'gone', "with the new deployment's 404 page");
  t.equal(await node.metric(`edgedns_pages_skew_served_total{site="${SITE}"}`), 1, 'counted');

  await sleep(Math.max(0, 2300 - (Date.now() - switched)));
  t.equal((await page(node, SITE, '/app.11111111.css')).status, 404, 'after the grace period, 404');

  // A rollback restores the older deployment exactly: the newer one was taken out on purpose.
  const rolled = await node.api('POST', `/v1/sites/${SITE}/rollback`, { body: {} });
  t.equal(rolled.status, 200);
  t.equal((await page(node, SITE, '/app.22222222.css')).status, 404, 'no fill-in from the deployment rolled back from');
  t.equal((await page(node, SITE, '/app.11111111.css')).body, 'v1 css');
});
