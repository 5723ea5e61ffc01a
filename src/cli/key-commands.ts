// edgedns key create|list|revoke: API keys through a running node's API (admin key needed).

import { apiClient, ApiRequestError } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';
import type { KeyInfo } from '../keys/key-store.js';

export const KEY_HELP = `Usage:
  edgedns key create --scope SCOPE [--name NAME] [--expires 90d]   create a key; prints its secret once
  edgedns key list                                                 list keys (never their secrets)
  edgedns key revoke ID                                            revoke a key (it stops working at once)

Scopes:
  admin              everything
  zone:example.com   that zone's RRsets and challenge values only
  acme:example.com   only TXT values at _acme-challenge.example.com (and _acme-challenge.<sub>.example.com)
  site:blog.example  deploys, previews and rollback of that pages site only (for CI)

Options:
  --expires D    90d, 12h, 30m, 2w or an ISO date; default: never
  --api H:P      the node's API address (EDGEDNS_API, default 127.0.0.1:8053)
  --data DIR     where admin.key is (EDGEDNS_DATA, default ./data); EDGEDNS_API_KEY overrides it
`;

export const KEY_OPTIONS: CommandOptions = { ...API_OPTIONS, scope: { type: 'string' }, name: { type: 'string' }, expires: { type: 'string' } };

/** A key as the API shows it; `secret` only in the answer to create, the one time it is shown. */
type KeyView = KeyInfo & { secret?: string };

export async function keyCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, arg] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(KEY_HELP);
    return;
  }
  const client = await apiClient(args.flags);
  const flag = (name: string): string | undefined => (typeof args.flags[name] === 'string' ? (args.flags[name] as string) : undefined);
  if (sub === 'create') {
    const scope = flag('scope');
    if (!scope) throw new UsageError('key create needs --scope admin|zone:NAME|acme:NAME');
    const body = JSON.stringify({ scope, ...(flag('name') ? { name: flag('name') } : {}), ...(flag('expires') ? { expires: flag('expires') } : {}) });
    const response = await client.request('POST', '/v1/keys', { body, contentType: 'application/json' });
    const key = (await response.json().catch(() => ({}))) as Partial<KeyView>;
    // `KEY=$(edgedns key create ...)` must never capture an empty or made-up secret: no secret, no output, exit 1.
    if (typeof key.secret !== 'string' || key.secret === '') throw new ApiRequestError(`${client.base} answered without a key secret: is it an edgedns API?`);
    out.write(`${key.secret}\n`);
    // stderr, so it shows even when stdout goes into a variable: which node now knows this key.
    process.stderr.write(`created key ${key.id} "${key.name}" with scope ${key.scope}${key.expiresAt ? `, expires ${key.expiresAt}` : ''} on ${client.base}; the secret above is shown only once\n`);
  } else if (sub === 'list') {
    const response = await client.request('GET', '/v1/keys');
    const { keys } = (await response.json()) as { keys: KeyView[] };
    const rows = keys.map((k) => [k.id, k.scope, k.revokedAt ? 'revoked' : k.expiresAt && Date.parse(k.expiresAt) <= Date.now() ? 'expired' : 'active', k.createdAt.slice(0, 19), k.lastUsedAt?.slice(0, 19) ?? '-', k.expiresAt?.slice(0, 19) ?? '-', k.name]);
    const head = ['ID', 'SCOPE', 'STATE', 'CREATED', 'LAST USED', 'EXPIRES', 'NAME'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    for (const row of [head, ...rows]) out.write(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ') + '\n');
  } else if (sub === 'revoke') {
    if (!arg) throw new UsageError('key revoke needs the key ID (see edgedns key list)');
    const response = await client.request('DELETE', `/v1/keys/${encodeURIComponent(arg)}`);
    const key = (await response.json()) as KeyView;
    out.write(`revoked ${key.id} "${key.name}" (${key.scope})\n`);
  } else throw new UsageError(`unknown key command "${sub}"\n\n${KEY_HELP}`);
}
