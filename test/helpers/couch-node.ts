// An in-process edgedns node on a CouchDB-protocol server, whose data directory outlives stop() so a test can
// restart it (with its snapshot and checkpoint) as an operator would restart the service.

import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../../src/node/config.js';
import { startNode, type RunningNode } from '../../src/node/node.js';
import { dig } from './dig.js';
import { freePort } from './ports.js';

export interface CouchNode {
  dnsPort: number;
  apiPort: number;
  dataDir: string;
  node: RunningNode;
  /** Stops the node, keeping its data directory. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data directory. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
  /** The first answer record's data for a question, or the rcode when there is none. */
  ask(name: string, type?: string): Promise<string>;
  /** The CHAOS TXT health.edgedns. text. */
  health(): Promise<string>;
  metric(name: string): Promise<number | undefined>;
  healthz(): Promise<{ status: string; data?: { ageSeconds: number; connected: boolean; source: string } }>;
}

export interface CouchNodeOptions {
  couchdb: string;
  prefix: string;
  nodeId?: string;
  zoneFiles?: string[];
}

export async function startCouchNode(options: CouchNodeOptions): Promise<CouchNode> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'edgedns-couch-node-'));
  const zonesDir = path.join(root, 'zones');
  await mkdir(zonesDir);
  for (const file of options.zoneFiles ?? []) await copyFile(file, path.join(zonesDir, path.basename(file)));
  const dnsPort = await freePort();
  const apiPort = await freePort();
  const dataDir = path.join(root, 'data');
  const config = resolveConfig(
    {
      dns: `127.0.0.1:${dnsPort}`,
      api: `127.0.0.1:${apiPort}`,
      http: '127.0.0.1:0',
      https: '127.0.0.1:0',
      data: dataDir,
      zones: zonesDir,
      'node-id': options.nodeId ?? 'couch-node',
      couchdb: options.couchdb,
      'db-prefix': options.prefix,
    },
    {},
  );
  const logger = pino({ level: process.env.EDGEDNS_TEST_LOG ?? 'silent' });
  let node: RunningNode | undefined = await startNode(config, logger);
  const running = (): RunningNode => {
    if (!node) throw new Error('the node is stopped');
    return node;
  };
  const result: CouchNode = {
    dnsPort,
    apiPort,
    dataDir,
    get node() {
      return running();
    },
    async stop() {
      const current = node;
      node = undefined;
      await current?.close();
    },
    async restart() {
      await result.stop();
      node = await startNode(config, logger);
    },
    async destroy() {
      await result.stop();
      await rm(root, { recursive: true, force: true });
    },
    async ask(name, type = 'A') {
      const reply = await dig(dnsPort, name, type, { timeoutSeconds: 1 });
      return reply.answer[0]?.data ?? reply.rcode;
    },
    async health() {
      const reply = await dig(dnsPort, 'health.edgedns.', 'TXT', { qclass: 'CH', timeoutSeconds: 1 });
      return (reply.answer[0]?.data ?? reply.rcode).replace(/^"|"$/g, '');
    },
    async metric(name) {
      const text = await running().registry.metrics();
      const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    },
    async healthz() {
      const response = await fetch(`http://127.0.0.1:${apiPort}/healthz`);
      return (await response.json()) as Awaited<ReturnType<CouchNode['healthz']>>;
    },
  };
  return result;
}

/** Polls `check` every 50 ms until it is true or `ms` has passed; the elapsed ms, or -1 on timeout. */
export async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check().catch(() => false)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return -1;
}
