// How CLI commands reach a running node: its HTTP API, with the key from EDGEDNS_API_KEY or <data>/admin.key.

import { readAdminKeyFile } from '../keys/api-keys.js';
import { DEFAULTS, parseAddress } from '../node/config.js';
import type { Flags } from '../node/config.js';

export class ApiRequestError extends Error {}

export interface ApiClient {
  request(method: string, path: string, options?: { body?: RequestInit['body']; contentType?: string }): Promise<Response>;
}

export async function apiClient(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<ApiClient> {
  const apiFlag = typeof flags.api === 'string' ? flags.api : env.EDGEDNS_API || DEFAULTS.api;
  const address = parseAddress(apiFlag, '--api');
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const base = `http://${host}:${address.port}`;
  const dataDir = typeof flags.data === 'string' ? flags.data : env.EDGEDNS_DATA || DEFAULTS.data;
  const key = env.EDGEDNS_API_KEY || (await readAdminKeyFile(dataDir));
  return {
    async request(method, path, options = {}) {
      if (!key) throw new ApiRequestError(`no API key: set EDGEDNS_API_KEY or run where ${dataDir}/admin.key exists (--data DIR)`);
      const headers: Record<string, string> = { authorization: `Bearer ${key}` };
      if (options.contentType) headers['content-type'] = options.contentType;
      let response: Response;
      try {
        response = await fetch(base + path, { method, headers, body: options.body });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        throw new ApiRequestError(`cannot reach the edgedns API at ${base} (${cause}); is the node running? (--api HOST:PORT)`);
      }
      if (!response.ok) {
        const text = await response.text();
        let message = text;
        try {
          const parsed = JSON.parse(text) as { error?: { message?: string; field?: string } };
          if (parsed.error?.message) message = parsed.error.message;
        } catch {
          // not JSON: show the body as it came
        }
        throw new ApiRequestError(`${message} (HTTP ${response.status})`);
      }
      return response;
    },
  };
}
