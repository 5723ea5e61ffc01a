// One edgedns node: store, zone index kept in sync, DNS on UDP and TCP, the HTTP API.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { buildApi } from './api/app.js';
import type { NodeConfig } from './config.js';
import { createHandler } from './dns/handler.js';
import { DnsMetrics } from './dns/metrics.js';
import { DEFAULT_TCP_OPTIONS, listenTcp } from './dns/tcp-server.js';
import { listenUdp, type Listening } from './dns/udp-server.js';
import { ensureBootstrapKey } from './keys/api-keys.js';
import { PouchStore } from './store/pouch-store.js';
import type { Store } from './store/store.js';
import { Catalog } from './zone/catalog.js';
import { ZoneSync } from './zone/zone-sync.js';
import { seedZones } from './zone/zones-dir.js';

export interface RunningNode {
  dnsUdp: Listening;
  dnsTcp: Listening;
  api: { host: string; port: number };
  catalog: Catalog;
  store: Store;
  registry: Registry;
  close(): Promise<void>;
}

export async function startNode(config: NodeConfig, logger: Logger): Promise<RunningNode> {
  const startedAt = Date.now();
  await mkdir(config.dataDir, { recursive: true });
  const store = await PouchStore.open(path.join(config.dataDir, 'db'));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'edgedns_process_' });

  await ensureBootstrapKey(store, config.dataDir, config.nodeId);
  if (config.zonesDir) await seedZones(store, config.zonesDir, logger);

  const catalog = new Catalog();
  const sync = new ZoneSync({ store, catalog, logger, registry });
  await sync.start();

  const handler = createHandler({
    catalog,
    chaos: { nodeId: config.nodeId, version: config.chaosVersion },
    metrics: new DnsMetrics(registry),
    logger,
  });
  const closers: (() => Promise<void>)[] = [];
  try {
    const dnsUdp = await listenUdp(config.dns.host, config.dns.port, handler, logger);
    closers.push(dnsUdp.close);
    // Port 0 means "any": TCP then takes the port UDP got, so both transports share one number.
    const dnsTcp = await listenTcp(config.dns.host, dnsUdp.port, handler, logger, { ...DEFAULT_TCP_OPTIONS, idleTimeoutMs: config.tcpIdleTimeoutMs });
    closers.push(dnsTcp.close);
    const api = await buildApi({ store, catalog, sync, registry, logger, nodeId: config.nodeId, startedAt });
    await api.listen({ host: config.api.host, port: config.api.port });
    closers.push(() => api.close());
    const apiAddress = api.server.address();
    const apiPort = typeof apiAddress === 'object' && apiAddress ? apiAddress.port : config.api.port;
    logger.info(
      { dns: `${config.dns.host}:${dnsUdp.port}`, api: `${config.api.host}:${apiPort}`, zones: catalog.names(), store: store.description },
      'edgedns node started',
    );
    return {
      dnsUdp,
      dnsTcp,
      api: { host: config.api.host, port: apiPort },
      catalog,
      store,
      registry,
      close: async () => {
        for (const close of closers.reverse()) await close();
        await sync.stop();
        await store.close();
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await sync.stop();
    await store.close();
    throw err;
  }
}
