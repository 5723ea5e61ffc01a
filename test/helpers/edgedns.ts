// Starts a real edgedns node in this process on loopback ports chosen by the OS, with the given zone files
// imported into a fresh embedded store; stop() closes every socket and removes the data directory.

import { copyFile, mkdtemp, rm, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../src/node/config.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { freePort } from './ports.js';

export interface StartedEdgedns {
  dnsPort: number;
  apiPort: number;
  dataDir: string;
  node: RunningNode;
  stop(): Promise<void>;
}

export async function startEdgedns(options: { zoneFiles: string[]; nodeId?: string; chaosVersion?: string; tcpIdleTimeout?: string }): Promise<StartedEdgedns> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-test-'));
  const zonesDir = path.join(dataDir, 'zones');
  await mkdir(zonesDir);
  for (const file of options.zoneFiles) await copyFile(file, path.join(zonesDir, path.basename(file)));
  const dnsPort = await freePort();
  const config = resolveConfig(
    {
      dns: `127.0.0.1:${dnsPort}`,
      api: '127.0.0.1:0',
      http: '127.0.0.1:0',
      https: '127.0.0.1:0',
      data: path.join(dataDir, 'data'),
      zones: zonesDir,
      'node-id': options.nodeId ?? 'test-node',
      'chaos-version': options.chaosVersion,
      'tcp-idle-timeout': options.tcpIdleTimeout,
    },
    {},
  );
  const logger = pino({ level: process.env.EDGEDNS_TEST_LOG ?? 'silent' });
  const node = await startNode(config, logger);
  return {
    dnsPort: node.dnsUdp.port,
    apiPort: node.api.port,
    dataDir,
    node,
    stop: async () => {
      await node.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
