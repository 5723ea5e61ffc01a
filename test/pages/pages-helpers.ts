// Helpers for pages tests: a real node in this process, the deploy protocol spoken over real HTTP, and raw GETs to
// the asset server with any Host header (fetch may not set Host, node:http can).

import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startEdgedns, type StartedEdgedns } from '../helpers/edgedns.js';
import { http, type HttpResult } from '../helpers/http.js';

/** Enough to speak the deploy protocol to a node. */
export interface ApiTarget {
  apiPort: number;
  key: string;
  api(method: string, path: string, body?: unknown): Promise<HttpResult>;
}

export interface PagesNode extends StartedEdgedns, ApiTarget {
  httpPort: number;
}

export function apiTarget(apiPort: number, key: string): ApiTarget {
  return { apiPort, key, api: (method, p, body) => http(apiPort, method, p, { key, body }) };
}

export async function startPagesNode(): Promise<PagesNode> {
  const started = await startEdgedns({ zoneFiles: [] });
  const key = (await readFile(path.join(started.dataDir, 'data', 'admin.key'), 'utf8')).trim();
  return {
    ...started,
    key,
    httpPort: started.node.pages.port,
    api: (method, p, body) => http(started.apiPort, method, p, { key, body }),
  };
}

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export type Tree = Record<string, string | Buffer>;

/** Deploys `tree` with the API, as the CLI does: missing → upload those → commit. Returns the commit's answer. */
export async function deployTree(node: ApiTarget, site: string, tree: Tree, options: { preview?: boolean; message?: string } = {}): Promise<{ result: HttpResult; uploaded: number }> {
  const files: Record<string, { sha256: string; size: number }> = {};
  const bodies = new Map<string, Buffer>();
  for (const [p, content] of Object.entries(tree)) {
    const data = Buffer.from(content);
    files[p] = { sha256: sha256(data), size: data.length };
    bodies.set(files[p].sha256, data);
  }
  const missing = await node.api('POST', '/v1/blobs/missing', { hashes: [...bodies.keys()] });
  if (missing.status !== 200) throw new Error(`missing: ${missing.status} ${JSON.stringify(missing.body)}`);
  for (const hash of missing.body.missing as string[]) {
    const up = await putBlob(node, hash, bodies.get(hash) as Buffer);
    if (up.status !== 201 && up.status !== 200) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`);
  }
  const result = await node.api('POST', `/v1/sites/${site}/deployments`, { files, ...options });
  return { result, uploaded: missing.body.missing.length };
}

export async function putBlob(node: ApiTarget, hash: string, data: Buffer): Promise<HttpResult> {
  const response = await fetch(`http://127.0.0.1:${node.apiPort}/v1/blobs/${hash}`, {
    method: 'PUT',
    headers: { 'x-api-key': node.key, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: response.status, body, headers: response.headers };
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
