// edgedns zone import|export|list: talk to a running node through its API.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { apiClient } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';

export const ZONE_HELP = `Usage:
  edgedns zone import FILE [--replace] [--origin NAME]   import a BIND zone file
  edgedns zone export NAME                                print a zone as a BIND zone file
  edgedns zone list                                       list the zones with their serials

Options:
  --replace      overwrite the zone if it exists (its SOA serial still moves forward)
  --origin NAME  the zone's name when the file has no $ORIGIN or SOA to say it
  --api H:P      the node's API address (EDGEDNS_API, default 127.0.0.1:8053)
  --data DIR     where admin.key is (EDGEDNS_DATA, default ./data); EDGEDNS_API_KEY overrides it
`;

export const ZONE_OPTIONS: CommandOptions = { ...API_OPTIONS, replace: { type: 'boolean' }, origin: { type: 'string' } };

export async function zoneCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, arg] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(ZONE_HELP);
    return;
  }
  const client = await apiClient(args.flags);
  if (sub === 'import') {
    if (!arg) throw new UsageError('zone import needs a FILE');
    const text = await readFile(arg, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${arg}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    });
    const query = new URLSearchParams({ file: path.basename(arg) });
    if (args.flags.replace) query.set('replace', 'true');
    if (typeof args.flags.origin === 'string') query.set('origin', args.flags.origin);
    const response = await client.request('POST', `/v1/zones?${query}`, { body: text, contentType: 'text/dns' });
    const result = (await response.json()) as { zone: string; created: boolean; serial: number; rrsets: number; served: boolean };
    out.write(`${result.created ? 'imported' : 'replaced'} ${result.zone}: ${result.rrsets} RRsets, serial ${result.serial}${result.served ? '' : ' (not yet served: check the node log)'}\n`);
  } else if (sub === 'export') {
    if (!arg) throw new UsageError('zone export needs a zone NAME');
    const response = await client.request('GET', `/v1/zones/${encodeURIComponent(arg)}/export`);
    out.write(await response.text());
  } else if (sub === 'list') {
    const response = await client.request('GET', '/v1/zones');
    const { zones } = (await response.json()) as { zones: { name: string; serial: number | null; rrsets: number; served: boolean }[] };
    if (zones.length === 0) {
      out.write('no zones\n');
      return;
    }
    const width = Math.max(4, ...zones.map((z) => z.name.length));
    out.write(`${'ZONE'.padEnd(width)}  ${'SERIAL'.padStart(10)}  RRSETS  SERVED\n`);
    for (const z of zones) {
      out.write(`${z.name.padEnd(width)}  ${String(z.serial ?? '-').padStart(10)}  ${String(z.rrsets).padStart(6)}  ${z.served ? 'yes' : 'no'}\n`);
    }
  } else throw new UsageError(`unknown zone command "${sub}"\n\n${ZONE_HELP}`);
}
