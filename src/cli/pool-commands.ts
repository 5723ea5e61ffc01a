// edgedns pool add|set|list|rm|explain: pools of edges and their answer policy, through the API.

import { apiClient } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';

export const POOL_HELP = `Usage:
  edgedns pool add NAME --members EDGE[,EDGE] [options]   add a pool (dynamic RRsets name it: www 30 IN POOL NAME)
  edgedns pool set NAME [options]                         change some fields of a pool
  edgedns pool list                                       pools with their members and policy
  edgedns pool rm NAME                                    remove a pool
  edgedns pool explain NAME --client ADDR[/LEN] [--type AAAA]   what that client gets, and why

Options:
  --members LIST       edges in the pool
  --count N            edges per answer (default 1)
  --ttl S              TTL of its answers (default 30; the RRset's TTL caps it)
  --fail-open BOOL     when every member is down: all of them (true, default) or no address (false)
  --pins SPEC          "country:JP=tyo;continent:EU=fra,ams;cidr:203.0.113.0/24=nyc" (first match wins)
  --margin-percent P   stabilization: a client leaves its nearest edge only for one faster by P % (default 20)...
  --margin-ms MS       ...and by MS milliseconds (default 10)
  --margin-rounds N    probe rounds an RTT change must last before it counts (default 3)
  --api H:P, --data DIR
`;

const POOL_FIELDS = ['members', 'count', 'ttl', 'fail-open', 'pins', 'client', 'type', 'margin-percent', 'margin-ms', 'margin-rounds'];
export const POOL_OPTIONS: CommandOptions = { ...API_OPTIONS, ...Object.fromEntries(POOL_FIELDS.map((f) => [f, { type: 'string' }])) };

function pinsFlag(text: string): { match: string; edges: string[] }[] {
  if (text === '') return [];
  return text.split(';').map((part) => {
    const eq = part.lastIndexOf('=');
    if (eq < 0) throw new UsageError(`pin "${part}" is not MATCH=EDGE[,EDGE] (e.g. country:JP=tyo)`);
    return { match: part.slice(0, eq).trim(), edges: part.slice(eq + 1).split(',').map((e) => e.trim()).filter(Boolean) };
  });
}

function poolBody(flags: ParsedArgs['flags']): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const text = (flag: string): string | undefined => {
    const v = flags[flag];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new UsageError(`--${flag} needs a value`);
    return v;
  };
  const num = (flag: string): number | undefined => {
    const v = text(flag);
    if (v === undefined) return undefined;
    if (v.trim() === '' || !Number.isFinite(Number(v))) throw new UsageError(`--${flag} needs a number`);
    return Number(v);
  };
  const members = text('members');
  if (members !== undefined) body.members = members.split(',').map((m) => m.trim()).filter(Boolean);
  if (num('count') !== undefined) body.count = num('count');
  if (num('ttl') !== undefined) body.ttl = num('ttl');
  const failOpen = text('fail-open');
  if (failOpen !== undefined) {
    if (failOpen !== 'true' && failOpen !== 'false') throw new UsageError('--fail-open is true or false');
    body.failOpen = failOpen === 'true';
  }
  const pins = text('pins');
  if (pins !== undefined) body.pins = pinsFlag(pins);
  for (const [flag, field] of [['margin-percent', 'marginPercent'], ['margin-ms', 'marginMs'], ['margin-rounds', 'marginRounds']] as const) {
    const value = num(flag);
    if (value !== undefined) body[field] = value;
  }
  return body;
}

export async function poolCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, name] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(POOL_HELP);
    return;
  }
  const client = await apiClient(args.flags);
  const json = { contentType: 'application/json' };
  if (sub === 'add') {
    if (!name) throw new UsageError('pool add needs a NAME');
    await client.request('POST', '/v1/pools', { ...json, body: JSON.stringify({ name, ...poolBody(args.flags) }) });
    out.write(`added pool ${name}\n`);
  } else if (sub === 'set') {
    if (!name) throw new UsageError('pool set needs a NAME');
    const body = poolBody(args.flags);
    if (Object.keys(body).length === 0) throw new UsageError('pool set needs at least one option to change');
    await client.request('PATCH', `/v1/pools/${encodeURIComponent(name)}`, { ...json, body: JSON.stringify(body) });
    out.write(`updated pool ${name}\n`);
  } else if (sub === 'rm') {
    if (!name) throw new UsageError('pool rm needs a NAME');
    await client.request('DELETE', `/v1/pools/${encodeURIComponent(name)}`);
    out.write(`removed pool ${name}\n`);
  } else if (sub === 'list') {
    const { pools } = (await (await client.request('GET', '/v1/pools')).json()) as {
      pools: { name: string; members: string[]; count: number; ttl: number; failOpen: boolean; pins: { match: string; edges: string[] }[]; marginPercent: number; marginMs: number; marginRounds: number }[];
    };
    if (pools.length === 0) {
      out.write('no pools\n');
      return;
    }
    for (const p of pools) {
      out.write(`${p.name}: ${p.members.join(', ')}; count ${p.count}, ttl ${p.ttl}, fail-open ${p.failOpen ? 'yes' : 'no'}, margin ${p.marginPercent} % and ${p.marginMs} ms for ${p.marginRounds} rounds${p.pins.length ? '; pins ' + p.pins.map((pin) => `${pin.match}=${pin.edges.join(',')}`).join(' ') : ''}\n`);
    }
  } else if (sub === 'explain') {
    if (!name) throw new UsageError('pool explain needs a NAME');
    const query = new URLSearchParams();
    if (typeof args.flags.client === 'string') query.set('client', args.flags.client);
    if (typeof args.flags.type === 'string') query.set('type', args.flags.type);
    const response = await client.request('GET', `/v1/pools/${encodeURIComponent(name)}/explain?${query}`);
    out.write(JSON.stringify(await response.json(), null, 2) + '\n');
  } else throw new UsageError(`unknown pool command "${sub}"\n\n${POOL_HELP}`);
}
