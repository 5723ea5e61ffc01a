// edgedns acme ...: DNS-01 hooks for ACME clients, talking to a node's API.
//   lego-exec present|cleanup FQDN VALUE   lego --dns exec (EXEC_PATH) calls this
//   certbot-auth / certbot-cleanup         certbot --manual-auth-hook / --manual-cleanup-hook
//   add|remove DOMAIN VALUE                by hand
// The API address and key come from EDGEDNS_API / EDGEDNS_API_KEY, else from a KEY=VALUE file (--config FILE,
// EDGEDNS_CONFIG, or /etc/edgedns/acme.env), else the defaults of the other commands.

import { readFileSync } from 'node:fs';
import { NameserverLagError, waitForNameservers, type Nameserver } from '../acme/wait-nameservers.js';
import { apiClient, ApiRequestError, type ApiClient } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';

export const ACME_HELP = `Usage:
  edgedns acme add DOMAIN VALUE              add a challenge value for DOMAIN (example.com or *.example.com)
  edgedns acme remove DOMAIN VALUE           remove it
  edgedns acme lego-exec present|cleanup FQDN VALUE   for lego --dns exec (EXEC_PATH must be one program:
                                                      a two-line script that runs this)
  edgedns acme certbot-auth                  certbot --manual-auth-hook: adds $CERTBOT_VALIDATION for
                                             $CERTBOT_DOMAIN, returns once every nameserver answers it
  edgedns acme certbot-cleanup               certbot --manual-cleanup-hook: removes it

Options:
  --config FILE      KEY=VALUE lines with the settings below (EDGEDNS_CONFIG, default /etc/edgedns/acme.env)
  --api H:P          the node's API, HOST:PORT or http(s)://HOST:PORT (overrides EDGEDNS_API)
  --data DIR         where admin.key is when EDGEDNS_API_KEY is unset (EDGEDNS_DATA, default ./data)

Settings (variables, or KEY=VALUE lines in the config file):
  EDGEDNS_API        the node's API, HOST:PORT or http(s)://HOST:PORT (default 127.0.0.1:8053)
  EDGEDNS_API_KEY    a key: acme:DOMAIN is enough
  EDGEDNS_NS_PORT    DNS port of the nameservers to check (default 53)
  EDGEDNS_ACME_WAIT  seconds to wait for every nameserver (default 120)
`;

export const ACME_OPTIONS: CommandOptions = { ...API_OPTIONS, config: { type: 'string' } };

const DEFAULT_CONFIG = '/etc/edgedns/acme.env';

/** Variables from the environment, filled in from the config file where unset. */
export function acmeEnv(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const explicit = typeof args.flags.config === 'string' ? args.flags.config : env.EDGEDNS_CONFIG;
  const file = explicit ?? DEFAULT_CONFIG;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (explicit !== undefined) throw new UsageError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const merged: NodeJS.ProcessEnv = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) merged[m[1] as string] = (m[2] as string).replace(/^(["'])(.*)\1$/, '$2');
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return merged;
}

function need(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new UsageError(`${name} is not set (certbot sets it for its hooks)`);
  return v;
}

async function send(client: ApiClient, method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await client.request(method, path, { body: JSON.stringify(body), contentType: 'application/json' });
  const text = await response.text();
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new UsageError(`${name}="${text}" is not 1-3600 seconds`);
  return n;
}

function nsPort(env: NodeJS.ProcessEnv): number {
  const text = env.EDGEDNS_NS_PORT;
  if (text === undefined) return 53;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`EDGEDNS_NS_PORT="${text}" is not a port 1-65535`);
  return n;
}

export async function acmeCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, a, b, c] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(ACME_HELP);
    return;
  }
  const env = acmeEnv(args);
  const client = await apiClient(args.flags, env);
  switch (sub) {
    case 'add':
    case 'remove': {
      if (!a || !b) throw new UsageError(`acme ${sub} needs DOMAIN and VALUE`);
      const result = await send(client, sub === 'add' ? 'POST' : 'DELETE', '/v1/acme/challenges', { domain: a, value: b });
      out.write(sub === 'add' ? `added ${String(result.name)} TXT "${b}" (expires ${String(result.expiresAt)})\n` : `removed ${b}\n`);
      return;
    }
    case 'lego-exec': {
      // lego runs EXEC_PATH present|cleanup FQDN VALUE, the FQDN being _acme-challenge.<domain>.
      if ((a !== 'present' && a !== 'cleanup') || !b || !c) throw new UsageError('acme lego-exec needs present|cleanup FQDN VALUE');
      await send(client, 'POST', `/v1/acme/httpreq/${a}`, { fqdn: b, value: c });
      return;
    }
    case 'certbot-auth': {
      const domain = need(env, 'CERTBOT_DOMAIN');
      const value = need(env, 'CERTBOT_VALIDATION');
      const result = await send(client, 'POST', '/v1/acme/challenges', { domain, value });
      const waited = await waitForNameservers(result.nameservers as Nameserver[], String(result.name), value, {
        port: nsPort(env),
        timeoutMs: seconds(env, 'EDGEDNS_ACME_WAIT', 120) * 1000,
      }).catch((err: unknown) => {
        // an expected outcome, not a bug: print the message (it names the lagging servers), not a stack
        throw err instanceof NameserverLagError ? new ApiRequestError(err.message) : err;
      });
      // stdout: certbot reports anything on a hook's stderr as "error output"
      out.write(`edgedns: ${String(result.name)} TXT "${value}" answered by ${waited.checked.join(', ')} after ${waited.ms} ms\n`);
      return;
    }
    case 'certbot-cleanup': {
      const domain = need(env, 'CERTBOT_DOMAIN');
      const value = need(env, 'CERTBOT_VALIDATION');
      await send(client, 'POST', '/v1/acme/httpreq/cleanup', { fqdn: `_acme-challenge.${domain.replace(/^\*\./, '')}`, value });
      return;
    }
    default:
      throw new UsageError(`unknown acme command "${sub}"\n\n${ACME_HELP}`);
  }
}
