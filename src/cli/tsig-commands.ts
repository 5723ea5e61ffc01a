// edgedns tsig create|list|revoke: TSIG keys for RFC 2136 updates (nsupdate, knsupdate, lego rfc2136,
// certbot-dns-rfc2136), through a running node's API (admin key needed).

import { apiClient, ApiRequestError } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';
import type { TsigKeyInfo } from '../keys/tsig-keys.js';

export const TSIG_HELP = `Usage:
  edgedns tsig create --scope SCOPE [--name NAME] [--algorithm ALG] [--format F]   prints the key once
  edgedns tsig list                                    list TSIG keys (never their secrets)
  edgedns tsig revoke NAME                             revoke a key (updates signed with it are refused at once)

Scopes:
  zone:example.com   any update of that zone
  acme:example.com   only TXT at _acme-challenge.example.com (and _acme-challenge.<sub>.example.com)
  admin              any update of any zone

Options:
  --name NAME        the key's name, a DNS name (default: <scope kind>-<random>)
  --algorithm ALG    hmac-sha256 (default), hmac-sha512, hmac-sha384, hmac-sha224 or hmac-sha1
  --format F         how create prints the key:
                       line  ALG:NAME:SECRET, for knsupdate -y / -k FILE and nsupdate -y (default)
                       bind  a BIND key clause, for nsupdate -k FILE
                       json  name, algorithm, scope and secret
  --api H:P          the node's API address (EDGEDNS_API, default 127.0.0.1:8053)
  --data DIR         where admin.key is (EDGEDNS_DATA, default ./data); EDGEDNS_API_KEY overrides it
`;

export const TSIG_OPTIONS: CommandOptions = { ...API_OPTIONS, scope: { type: 'string' }, name: { type: 'string' }, algorithm: { type: 'string' }, format: { type: 'string' } };

type TsigKeyView = TsigKeyInfo & { secret?: string };

/** The key as one of the forms the update tools read. */
export function formatTsigKey(key: Required<Pick<TsigKeyView, 'name' | 'algorithm' | 'secret'>> & TsigKeyView, format: string): string {
  if (format === 'line') return `${key.algorithm}:${key.name}:${key.secret}\n`;
  if (format === 'bind') return `key "${key.name}" {\n\talgorithm ${key.algorithm};\n\tsecret "${key.secret}";\n};\n`;
  return JSON.stringify({ name: key.name, algorithm: key.algorithm, scope: key.scope, secret: key.secret }) + '\n';
}

export async function tsigCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, arg] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(TSIG_HELP);
    return;
  }
  const flag = (name: string): string | undefined => (typeof args.flags[name] === 'string' ? (args.flags[name] as string) : undefined);
  if (sub === 'create') {
    const scope = flag('scope');
    if (!scope) throw new UsageError('tsig create needs --scope zone:NAME|acme:NAME|admin');
    const format = flag('format') ?? 'line';
    if (!['line', 'bind', 'json'].includes(format)) throw new UsageError(`--format "${format}" is not line, bind or json`);
    const client = await apiClient(args.flags);
    const body = JSON.stringify({ scope, ...(flag('name') ? { name: flag('name') } : {}), ...(flag('algorithm') ? { algorithm: flag('algorithm') } : {}) });
    const response = await client.request('POST', '/v1/tsig-keys', { body, contentType: 'application/json' });
    const key = (await response.json().catch(() => ({}))) as Partial<TsigKeyView>;
    if (typeof key.secret !== 'string' || typeof key.name !== 'string' || typeof key.algorithm !== 'string') throw new ApiRequestError(`${client.base} answered without a TSIG key: is it an edgedns API?`);
    out.write(formatTsigKey(key as TsigKeyView & { secret: string }, format));
    process.stderr.write(`created TSIG key ${key.name} (${key.algorithm}) with scope ${key.scope} on ${client.base}; the secret above is shown only once\n`);
  } else if (sub === 'list') {
    const client = await apiClient(args.flags);
    const { keys } = (await (await client.request('GET', '/v1/tsig-keys')).json()) as { keys: TsigKeyView[] };
    const rows = keys.map((k) => [k.name, k.algorithm, k.scope, k.revokedAt ? 'revoked' : 'active', k.createdAt.slice(0, 19)]);
    const head = ['NAME', 'ALGORITHM', 'SCOPE', 'STATE', 'CREATED'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    for (const row of [head, ...rows]) out.write(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ') + '\n');
  } else if (sub === 'revoke') {
    if (!arg) throw new UsageError('tsig revoke needs the key NAME (see edgedns tsig list)');
    const client = await apiClient(args.flags);
    const key = (await (await client.request('DELETE', `/v1/tsig-keys/${encodeURIComponent(arg)}`)).json()) as TsigKeyView;
    out.write(`revoked TSIG key ${key.name} (${key.scope})\n`);
  } else throw new UsageError(`unknown tsig command "${sub}"\n\n${TSIG_HELP}`);
}
