// edgedns edge add|set|list|rm and edgedns route: manage edges and ask why a client gets its answer, through the API.

import { apiClient } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';

export const EDGE_HELP = `Usage:
  edgedns edge add NAME --ipv4 ADDR[,ADDR] [--ipv6 ADDR[,ADDR]] [options]   add an edge
  edgedns edge set NAME [options]                                          change some fields of an edge
  edgedns edge list                                                        edges with place, state and health
  edgedns edge rm NAME                                                     remove an edge no pool uses

Options:
  --ipv4 LIST, --ipv6 LIST   the edge's addresses (an edge without IPv6 is skipped for AAAA)
  --lat DEG --lon DEG        where it is (default: GeoIP of its first address)
  --country CC               its country (ISO 3166-1, shown only)
  --check URL|tcp:PORT|none  health check: HTTP GET expecting 200, a TCP connect, or none (always up)
  --expect-status N          the HTTP status the check expects (default 200)
  --weight N                 share among near-equal edges (default 100)
  --state S                  active, draining (not answered, still probed) or disabled
  --bias MS                  milliseconds added to its expected latency (negative to favour it)
  --api H:P, --data DIR      which node, and where its admin.key is (EDGEDNS_API, EDGEDNS_DATA, EDGEDNS_API_KEY)
`;

const EDGE_FIELDS = ['ipv4', 'ipv6', 'lat', 'lon', 'country', 'check', 'expect-status', 'weight', 'state', 'bias'];
export const EDGE_OPTIONS: CommandOptions = { ...API_OPTIONS, ...Object.fromEntries(EDGE_FIELDS.map((f) => [f, { type: 'string' }])) };

export const ROUTE_HELP = `Usage:
  edgedns route NAME --client ADDR[/LEN] [--type A|AAAA]   which edges this node answers that client, and why

Options:
  --api H:P, --data DIR      which node, and where its admin.key is (EDGEDNS_API, EDGEDNS_DATA, EDGEDNS_API_KEY)
`;

export const ROUTE_OPTIONS: CommandOptions = { ...API_OPTIONS, client: { type: 'string' }, type: { type: 'string' } };

function numberFlag(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} needs a number`);
  return n;
}

function stringFlag(value: string | boolean | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`--${flag} needs a value`);
  return value;
}

function edgeBody(flags: ParsedArgs['flags']): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) body[key] = value;
  };
  set('ipv4', stringFlag(flags.ipv4, 'ipv4')?.split(',').filter(Boolean));
  set('ipv6', stringFlag(flags.ipv6, 'ipv6')?.split(',').filter(Boolean));
  set('latitude', numberFlag(flags.lat, 'lat'));
  set('longitude', numberFlag(flags.lon, 'lon'));
  set('country', stringFlag(flags.country, 'country'));
  const check = stringFlag(flags.check, 'check');
  const expect = numberFlag(flags['expect-status'], 'expect-status');
  if (check !== undefined) body.check = expect !== undefined && /^https?:/.test(check) ? { type: 'http', url: check, expectStatus: expect } : check;
  set('weight', numberFlag(flags.weight, 'weight'));
  set('state', stringFlag(flags.state, 'state'));
  set('biasMs', numberFlag(flags.bias, 'bias'));
  return body;
}

interface EdgeRow {
  name: string;
  ipv4: string[];
  ipv6: string[];
  state: string;
  weight: number;
  up: boolean;
  ownRttMs: number | null;
  penaltyMs: number | null;
  location: { latitude: number; longitude: number; country?: string; source: string } | null;
  check: { type: string; url?: string; port?: number };
  votes: { node: string; up: boolean; fresh: boolean }[];
}

export async function edgeCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, name] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(EDGE_HELP);
    return;
  }
  const client = await apiClient(args.flags);
  const json = { contentType: 'application/json' };
  if (sub === 'add' || sub === 'set') {
    if (!name) throw new UsageError(`edge ${sub} needs a NAME`);
    const body = edgeBody(args.flags);
    if (sub === 'add') {
      await client.request('POST', '/v1/edges', { ...json, body: JSON.stringify({ name, ...body }) });
      out.write(`added edge ${name}\n`);
    } else {
      if (Object.keys(body).length === 0) throw new UsageError('edge set needs at least one option to change');
      await client.request('PATCH', `/v1/edges/${encodeURIComponent(name)}`, { ...json, body: JSON.stringify(body) });
      out.write(`updated edge ${name}\n`);
    }
  } else if (sub === 'rm') {
    if (!name) throw new UsageError('edge rm needs a NAME');
    await client.request('DELETE', `/v1/edges/${encodeURIComponent(name)}`);
    out.write(`removed edge ${name}\n`);
  } else if (sub === 'list') {
    const { edges } = (await (await client.request('GET', '/v1/edges')).json()) as { edges: EdgeRow[] };
    if (edges.length === 0) {
      out.write('no edges\n');
      return;
    }
    const rows = edges.map((e) => [
      e.name,
      e.state,
      e.check.type === 'none' ? 'unchecked' : e.up ? 'up' : 'down',
      `${e.votes.filter((v) => v.fresh && v.up).length}/${e.votes.filter((v) => v.fresh).length}`,
      e.ownRttMs === null ? '-' : `${e.ownRttMs.toFixed(1)}ms`,
      e.penaltyMs === null || e.penaltyMs === undefined ? '-' : `${e.penaltyMs.toFixed(1)}ms`,
      e.location ? `${e.location.latitude.toFixed(2)},${e.location.longitude.toFixed(2)}${e.location.source === 'geoip' ? ' (geoip)' : ''}` : '-',
      [...e.ipv4, ...e.ipv6].join(' '),
    ]);
    const head = ['EDGE', 'STATE', 'HEALTH', 'VOTES', 'RTT', 'PENALTY', 'LOCATION', 'ADDRESSES'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const row of [head, ...rows]) out.write(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n');
  } else throw new UsageError(`unknown edge command "${sub}"\n\n${EDGE_HELP}`);
}

export async function routeCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, name] = args.positionals;
  if (args.flags.help || !name) {
    out.write(ROUTE_HELP);
    return;
  }
  const client = await apiClient(args.flags);
  const query = new URLSearchParams({ name, type: stringFlag(args.flags.type, 'type') ?? 'A' });
  const clientFlag = stringFlag(args.flags.client, 'client');
  if (clientFlag) query.set('client', clientFlag);
  const result = (await (await client.request('GET', `/v1/route?${query}`)).json()) as {
    pool: string;
    ttl: number;
    answer: string[];
    client: { source: string; network?: string; location?: { country?: string; city?: string; latitude: number; longitude: number }; scopePrefix: number };
    decision: {
      failOpen: boolean;
      pin?: string;
      from: 'client' | 'node' | 'nowhere';
      margin: { percent: number; ms: number; rounds: number };
      steering: { anchor: string; best: string; gainMs: number; neededMs: number; chosen: string }[];
      candidates: { edge: string; up: boolean; distanceKm?: number; penaltyMs?: number; geoScoreMs: number | null; scoreMs: number | null; chosen: boolean; excluded?: string; votes: { node: string; fresh: boolean; penaltyMs?: number }[] }[];
    };
  };
  const where = result.client.location ? `${result.client.location.city ?? ''} ${result.client.location.country ?? ''} (${result.client.location.latitude.toFixed(2)},${result.client.location.longitude.toFixed(2)})`.trim() : 'unknown location';
  out.write(`client ${result.client.network ?? '-'} (${result.client.source}): ${where}; ECS scope /${result.client.scopePrefix}\n`);
  if (result.decision.from === 'node') out.write('  (a client of unknown place: distances measured from this node, where its resolver asked)\n');
  out.write(`pool ${result.pool}${result.decision.pin ? `, pin ${result.decision.pin}` : ''}${result.decision.failOpen ? ', FAIL OPEN (every member down)' : ''}\n`);
  for (const c of result.decision.candidates) {
    const observers = c.votes.filter((v) => v.fresh && v.penaltyMs !== undefined).map((v) => `${v.node} ${v.penaltyMs}`).join(', ');
    const facts = [
      c.up ? 'up' : 'down',
      c.distanceKm !== undefined ? `${c.distanceKm} km` : undefined,
      c.geoScoreMs !== null ? `geography ${c.geoScoreMs} ms` : undefined,
      c.penaltyMs !== undefined ? `+ route ${c.penaltyMs} ms (median of ${observers || 'no observer'})` : undefined,
      c.scoreMs !== null ? `= ${c.scoreMs} ms` : undefined,
      c.excluded,
    ].filter(Boolean);
    out.write(`  ${c.chosen ? '*' : ' '} ${c.edge.padEnd(12)} ${facts.join(', ')}\n`);
  }
  const { margin } = result.decision;
  for (const step of result.decision.steering) {
    const why = step.anchor === step.best ? 'nearest is also fastest' : step.chosen === step.best ? `${step.best} saves ${step.gainMs} ms > ${step.neededMs} ms needed` : `${step.best} would save ${step.gainMs} ms, not more than the ${step.neededMs} ms needed`;
    out.write(`steering: nearest ${step.anchor}, fastest ${step.best}: ${why} (margin ${margin.percent} % and ${margin.ms} ms) → ${step.chosen}\n`);
  }
  out.write(`answer (TTL ${result.ttl}): ${result.answer.length > 0 ? result.answer.join(' ') : 'none (NODATA)'}\n`);
}
