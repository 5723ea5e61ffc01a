// /healthz on the asset server, what the geo probes ask: 200 while the node can serve, 503 with the reason when its
// store stops answering for longer than allowed.

import t from 'tap';
import { createAssetServer } from '../../src/pages/asset-server.js';
import { BlobCache } from '../../src/pages/blob-cache.js';
import { get, pagesParts } from './pages-helpers.js';

t.test('healthz is 200 with a working store and 503 with the reason once it fails', async (t) => {
  const { store, logger, metrics, index } = await pagesParts(t);
  const server = createAssetServer({ index, store, metrics, logger, blobs: new BlobCache(store, 1024, metrics), previewDomain: 'preview.test', immutableMaxAge: 0, storeStaleMs: 0 });
  const port = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.close());

  const ok = await get(port, 'any.example', '/healthz');
  t.equal(ok.status, 200);
  t.match(JSON.parse(ok.body.toString()), { status: 'ok', sites: 0 });

  await store.close();
  // The store is checked at most once a second.
  await new Promise((r) => setTimeout(r, 1100));
  const down = await get(port, 'any.example', '/healthz');
  t.equal(down.status, 503);
  t.match(JSON.parse(down.body.toString()), { status: 'unavailable', reason: /^store unreachable/ });
  t.equal(down.headers['cache-control'], 'no-store');
});
