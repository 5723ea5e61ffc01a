// Helpers for pages tests: the deploy protocol spoken to a node's API (in-process), raw GETs to the asset server
// over real HTTP with any Host header (fetch may not set Host, node:http can), and the pages parts over a store of
// their own for tests of one part without a node.

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Test } from 'tap';
import { PagesMetrics } from '../../src/pages/metrics.js';
import { PagesIndex } from '../../src/pages/pages-index.js';
import { PouchStore } from '../../src/store/pouch-store.js';
import type { ApiResult, TestNode } from '../helpers/node.js';

/** Enough to speak the deploy protocol to a node: its API, with its admin key. */
export type ApiTarget = Pick<TestNode, 'api'>;

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export type Tree = Record<string, string | Buffer>;

/** Deploys `tree` with the API, as the CLI does: missing → upload those → commit. Returns the commit's answer. */
export async function deployTree(node: ApiTarget, site: string, tree: Tree, options: { preview?: boolean; message?: string } = {}): Promise<{ result: ApiResult; uploaded: number }> {
  const files: Record<string, { sha256: string; size: number }> = {};
  const bodies = new Map<string, Buffer>();
  for (const [p, content] of Object.entries(tree)) {
    const data = Buffer.from(content);
    files[p] = { sha256: sha256(data), size: data.length };
    bodies.set(files[p].sha256, data);
  }
  const missing = await node.api('POST', '/v1/blobs/missing', { body: { hashes: [...bodies.keys()] } });
  if (missing.status !== 200) throw new Error(`missing: ${missing.status} ${JSON.stringify(missing.body)}`);
  for (const hash of missing.body.missing as string[]) {
    const up = await putBlob(node, hash, bodies.get(hash) as Buffer);
    if (up.status !== 201 && up.status !== 200) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`);
  }
  const result = await node.api('POST', `/v1/sites/${site}/deployments`, { body: { files, ...options } });
  return { result, uploaded: missing.body.missing.length };
}

export function putBlob(node: ApiTarget, hash: string, data: Buffer): Promise<ApiResult> {
  return node.api('PUT', `/v1/blobs/${hash}`, { body: data, headers: { 'content-type': 'application/octet-stream' } });
}

export interface Fetched {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request to the asset server; the path is sent exactly as given (no normalisation of "..", "%2e"). */
export function get(port: number, host: string, rawPath: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: rawPath, method: options.method ?? 'GET', headers: { host, ...(options.headers ?? {}) }, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${rawPath} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface PagesParts {
  store: PouchStore;
  logger: Logger;
  metrics: PagesMetrics;
  /** Started: it follows the store. */
  index: PagesIndex;
}

/** A fresh embedded store and the pages index following it, for a test of one part; all closed when `t` ends. */
export async function pagesParts(t: Test): Promise<PagesParts> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-pages-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await PouchStore.open(path.join(dir, 'db'));
  t.teardown(() => store.close());
  const logger = pino({ level: 'silent' });
  const metrics = new PagesMetrics(new Registry());
  const index = new PagesIndex(store, logger);
  await index.start();
  t.teardown(() => index.stop());
  return { store, logger, metrics, index };
}
