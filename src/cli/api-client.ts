// How CLI commands reach a running node: its HTTP API, with the key from EDGEDNS_API_KEY or <data>/admin.key.

import { isIP } from 'node:net';
import { readAdminKeyFile } from '../keys/api-keys.js';
import { SERVE_OPTIONS, type Flags } from '../node/serve-options.js';
import { ConfigError } from '../node/config.js';

export class ApiRequestError extends Error {}

export interface ApiClient {
  /** Where requests go, e.g. http://127.0.0.1:8053: commands name it when what they did matters (a new key). */
  base: string;
  request(method: string, path: string, options?: { body?: RequestInit['body']; contentType?: string }): Promise<Response>;
}

/**
 * The API's base URL from `--api` / EDGEDNS_API: HOST:PORT (a name, an IPv4 or a [bracketed] IPv6 address) or an
 * http(s):// URL. Unlike `serve --api`, which must listen on an address, a client may name the node by its DNS name.
 */
export function apiBaseUrl(text: string, name: string): string {
  if (/^https?:\/\//.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError(`${name} "${text}" is not a URL`);
    }
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  }
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) throw new ConfigError(`${name} "${text}" is not HOST:PORT or an http(s):// URL (use [::1]:8053 for IPv6)`);
  const [, host, port] = m;
  if (Number(port) < 1 || Number(port) > 65535) throw new ConfigError(`${name} port "${port}" is not 1-65535`);
  if (isIP(host) === 6) return `http://[${host}]:${port}`;
  if (isIP(host) === 0 && !/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) throw new ConfigError(`${name} host "${host}" is not an address or a host name`);
  return `http://${host}:${port}`;
}

export async function apiClient(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<ApiClient> {
  const base =
    typeof flags.api === 'string'
      ? apiBaseUrl(flags.api, '--api')
      : env.EDGEDNS_API
        ? apiBaseUrl(env.EDGEDNS_API, 'EDGEDNS_API')
        : apiBaseUrl(SERVE_OPTIONS.api.default, 'the default API address');
  const dataDir = typeof flags.data === 'string' ? flags.data : env.EDGEDNS_DATA || SERVE_OPTIONS.data.default;
  const key = env.EDGEDNS_API_KEY || (await readAdminKeyFile(dataDir));
  return {
    base,
    async request(method, path, options = {}) {
      if (!key) throw new ApiRequestError(`no API key for ${base}: set EDGEDNS_API_KEY, or run where the node's ${dataDir}/admin.key is (--data DIR)`);
      const headers: Record<string, string> = { authorization: `Bearer ${key}` };
      if (options.contentType) headers['content-type'] = options.contentType;
      let response: Response;
      try {
        response = await fetch(base + path, { method, headers, body: options.body });
      } catch (err) {
        const { cause } = err as { cause?: { code?: string; message?: string } };
        const reason = cause?.code ?? cause?.message ?? (err as Error).message;
        throw new ApiRequestError(`cannot reach the edgedns API at ${base} (${reason}); is the node running? (--api HOST:PORT)`);
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
