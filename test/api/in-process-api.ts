// The API built in this process over a real embedded store, called with fastify's inject(): no sockets, no node
// process. For tests of what the API answers; tests of DNS, processes or replication start a node instead.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildApi } from '../../src/api/app.js';
import { ensureBootstrapKey } from '../../src/keys/api-keys.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import { StoreHealth } from '../../src/store/store-health.js';
import { Catalog } from '../../src/zone/catalog.js';
import { ZoneSync } from '../../src/zone/zone-sync.js';
import { saveZone } from '../../src/zone/zone-writer.js';
import { parseZoneFile } from '../../src/zone/zonefile-parse.js';

export interface InProcessApi {
  app: FastifyInstance;
  /** An admin key's secret. */
  key: string;
  /** A request with the admin key; the body is sent as JSON. */
  call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each test reads the body it expects
  close(): Promise<void>;
}

/** An API over a fresh embedded store holding the given zone files, served by this process's zone index. */
export async function inProcessApi(zoneFiles: string[]): Promise<InProcessApi> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'edgedns-api-'));
  const store = await PouchStore.open(path.join(dataDir, 'db'));
  const registry = new Registry();
  const logger = pino({ level: 'silent' });
  const catalog = new Catalog();
  const sync = new ZoneSync({ store, catalog, logger, registry, health: new StoreHealth(registry) });
  const key = await ensureBootstrapKey(store, dataDir, 'test-node');
  for (const file of zoneFiles) await saveZone(store, parseZoneFile(await readFile(file, 'utf8'), { file }), { replace: false });
  await sync.start();
  const app = await buildApi({ store, catalog, sync, registry, logger, nodeId: 'test-node', startedAt: Date.now() });
  return {
    app,
    key,
    async call(method, url, body, headers = {}) {
      const response = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: response.statusCode, body: response.body === '' ? undefined : JSON.parse(response.body) };
    },
    async close() {
      await app.close();
      await sync.stop();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
