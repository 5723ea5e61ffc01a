// edgedns site list|deployments|rollback|promote|gc: talk to a running node's pages API.

import { apiClient } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';
import { formatBytes } from './deploy-command.js';

export const SITE_HELP = `Usage:
  edgedns site list                          sites, their production deployment and URL
  edgedns site deployments HOST              a site's deployments, newest first
  edgedns site rollback HOST [DEPLOY_ID]     serve DEPLOY_ID again (default: the one served before)
  edgedns site promote HOST DEPLOY_ID        serve a preview deployment as production
  edgedns site gc [--keep N] [--grace S]     delete deployments beyond the newest N per site (default 10; those
                                             production points to are kept) and blobs nothing kept uses, except
                                             blobs younger than S seconds (default 3600)

Options:
  --api H:P      the node's API address (EDGEDNS_API, default 127.0.0.1:8053)
  --data DIR     where admin.key is (EDGEDNS_DATA); EDGEDNS_API_KEY overrides it
`;

export const SITE_OPTIONS: CommandOptions = { ...API_OPTIONS, keep: { type: 'string' }, grace: { type: 'string' } };

interface SiteView {
  host: string;
  production: string | null;
  serving: string | null;
  deployments: number;
  url: string;
}

interface DeploymentView {
  id: string;
  createdAt: string;
  files: number;
  bytes: number;
  production: boolean;
  message: string | null;
}

export async function siteCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, host, id] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(SITE_HELP);
    return;
  }
  const client = await apiClient(args.flags);
  const json = { contentType: 'application/json' };
  if (sub === 'list') {
    const { sites } = (await (await client.request('GET', '/v1/sites')).json()) as { sites: SiteView[] };
    if (sites.length === 0) return void out.write('no sites\n');
    const width = Math.max(4, ...sites.map((s) => s.host.length));
    out.write(`${'SITE'.padEnd(width)}  ${'PRODUCTION'.padEnd(12)}  DEPLOYS  URL\n`);
    for (const s of sites) out.write(`${s.host.padEnd(width)}  ${(s.production ?? '-').padEnd(12)}  ${String(s.deployments).padStart(7)}  ${s.url}\n`);
  } else if (sub === 'deployments') {
    if (!host) throw new UsageError('site deployments needs a HOST');
    const { deployments } = (await (await client.request('GET', `/v1/sites/${encodeURIComponent(host)}/deployments`)).json()) as { deployments: DeploymentView[] };
    if (deployments.length === 0) return void out.write('no deployments\n');
    out.write(`${'ID'.padEnd(12)}  ${'CREATED'.padEnd(24)}  ${'FILES'.padStart(6)}  ${'SIZE'.padStart(10)}  PROD  MESSAGE\n`);
    for (const d of deployments) {
      out.write(`${d.id.padEnd(12)}  ${d.createdAt.padEnd(24)}  ${String(d.files).padStart(6)}  ${formatBytes(d.bytes).padStart(10)}  ${d.production ? ' *  ' : '    '}  ${d.message ?? ''}\n`);
    }
  } else if (sub === 'rollback' || sub === 'promote') {
    if (!host) throw new UsageError(`site ${sub} needs a HOST`);
    if (sub === 'promote' && !id) throw new UsageError('site promote needs HOST and DEPLOY_ID');
    const response = await client.request('POST', `/v1/sites/${encodeURIComponent(host)}/${sub}`, { ...json, body: JSON.stringify(id ? { deployment: id } : {}) });
    const result = (await response.json()) as { site: string; production: string; previous: string | null; served: boolean };
    out.write(`${result.site} now serves ${result.production}${result.previous ? ` (was ${result.previous})` : ''}${result.served ? '' : '; this node does not serve it yet, check its log'}\n`);
  } else if (sub === 'gc') {
    const body: Record<string, number> = {};
    for (const [flag, field] of [['keep', 'keep'], ['grace', 'graceSeconds']] as const) {
      const value = args.flags[flag];
      if (value === undefined) continue;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} must be a whole number`);
      body[field] = n;
    }
    const report = (await (await client.request('POST', '/v1/pages/gc', { ...json, body: JSON.stringify(body) })).json()) as {
      deploymentsRemoved: string[];
      deploymentsKept: number;
      blobsRemoved: number;
      blobsKept: number;
      bytesFreed: number;
    };
    out.write(
      `removed ${report.deploymentsRemoved.length} deployments (kept ${report.deploymentsKept}) and ${report.blobsRemoved} blobs (kept ${report.blobsKept}), freeing ${report.bytesFreed} bytes (${formatBytes(report.bytesFreed)})\n`,
    );
  } else throw new UsageError(`unknown site command "${sub}"\n\n${SITE_HELP}`);
}
