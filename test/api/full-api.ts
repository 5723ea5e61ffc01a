// The whole API built in this process, every area included (zones, keys, ACME, acme-dns, PowerDNS, geo, pages), over
// a real embedded store and called with inject() or on a loopback port: for tests of what crosses every route
// (authorization, limits, logging). in-process-api.ts is the lighter one for tests of one area.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildApi, type ApiOptions } from '../../src/api/app.js';
import { GeoRuntime } from '../../src/geo/geo-runtime.js';
import { ensureBootstrapKey } from '../../src/keys/api-keys.js';
import { createKey } from '../../src/keys/key-store.js';
import { startPages, type Pages } from '../../src/pages/pages.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import { StoreHealth } from '../../src/store/store-health.js';
import { Catalog } from '../../src/zone/catalog.js';
import { ZoneSync } from '../../src/zone/zone-sync.js';
import { saveZone } from '../../src/zone/zone-writer.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';

export interface FullApi {
  app: FastifyInstance;
  store: PouchStore;
  registry: Registry;
  /** The bootstrap admin key's secret. */
  admin: string;
  /** A new key of `scope` ("zone:example.test", "site:a.example.test"); returns its secret. */
  key(scope: string): Promise<string>;
  /** Every line the API logged, as written (JSON). */
  logs(): string;
  close(): Promise<void>;
}

export async function fullApi(zoneFiles: string[], options: Partial<Pick<ApiOptions, 'timeouts' | 'authFailureLimit' | 'acme'>> = {}): Promise<FullApi> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'edgedns-full-api-'));
  const store = await PouchStore.open(path.join(dataDir, 'db'));
  const registry = new Registry();
  let logged = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const catalog = new Catalog();
  const sync = new ZoneSync({ store, catalog, logger, registry, health: new StoreHealth(registry) });
  const admin = await ensureBootstrapKey(store, dataDir, 'test-node');
  for (const file of zoneFiles) await saveZone(store, parseZoneFile(await readFile(file, 'utf8'), { file }), { replace: false });
  await sync.start();
  const geo = await GeoRuntime.start({ store, registry, logger, nodeId: 'test-node', config: { geoipPaths: [], probes: false } });
  let pages: Pages | undefined;
  let app: FastifyInstance | undefined;
  try {
    pages = await startPages(store, registry, logger, { http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0 }, previewDomain: 'preview.localhost', cacheBytes: 0, maxFiles: 100, immutableMaxAge: 60 });
    app = await buildApi({ store, catalog, sync, registry, logger, nodeId: 'test-node', startedAt: Date.now(), geo, pages, ...options });
  } catch (err) {
    await pages?.close();
    await geo.close();
    await sync.stop();
    await store.close();
    throw err;
  }
  const started = { app, pages };
  return {
    app,
    store,
    registry,
    admin,
    key: async (scope) => (await createKey(store, { scope })).secret,
    logs: () => logged,
    async close() {
      await started.app.close();
      await started.pages.close();
      await geo.close();
      await sync.stop();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
