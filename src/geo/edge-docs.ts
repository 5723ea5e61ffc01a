// Edges and pools as store documents (`edge/<name>`, `pool/<name>`), and the checks that turn what a client sent
// into a canonical document or an error naming the field. An edge is one server that serves visitors; a pool is a
// named set of edges plus the policy a dynamic RRset answers with.

import { isIPv4, isIPv6 } from 'node:net';
import type { StoredDoc } from '../store/store.js';
import { POOL_NAME } from '../zone/model.js';
import { formatIPv6, parseIPv6 } from '../proto/rdata-ip.js';
import { CONTINENTS } from './continents.js';
import { parseIp } from './ip.js';
import { InvalidFieldError } from '../errors.js';

export const EDGE_PREFIX = 'edge/';
export const POOL_PREFIX = 'pool/';
export const EDGE_NAME = POOL_NAME;

export type EdgeState = 'active' | 'draining' | 'disabled';
export const EDGE_STATES: readonly EdgeState[] = ['active', 'draining', 'disabled'];

export type HealthCheck =
  | { type: 'http'; url: string; expectStatus: number }
  | { type: 'tcp'; port: number; host?: string }
  | { type: 'none' };

export interface EdgeFields {
  name: string;
  ipv4: string[];
  ipv6: string[];
  /** Given coordinates; without them the edge is placed by GeoIP of its first address. */
  latitude?: number;
  longitude?: number;
  country?: string;
  check: HealthCheck;
  /** Share among near-equal edges (default 100; 0 only as a last resort). */
  weight: number;
  state: EdgeState;
  /** Milliseconds added to (or, negative, taken from) the edge's expected latency. */
  biasMs: number;
}

export interface EdgeDoc extends StoredDoc, EdgeFields {
  type: 'edge';
  updatedAt: string;
}

export interface PoolPin {
  /** "country:JP", "continent:EU" or "cidr:203.0.113.0/24". */
  match: string;
  /** Edges preferred for matching clients, when any of them is up. */
  edges: string[];
}

export interface PoolFields {
  name: string;
  members: string[];
  /** Edges per answer (default 1). */
  count: number;
  /** TTL of dynamic answers (default 30 s); the RRset's own TTL caps it. */
  ttl: number;
  /** When every member is down: answer with all of them (true, default) or with no address (NODATA). */
  failOpen: boolean;
  pins: PoolPin[];
  /**
   * Stabilization: a client leaves the edge geography gives it only for an edge better by this share of its expected
   * latency and by this many ms (both), and measured RTTs move only after this many probe rounds (see steering.ts).
   */
  marginPercent: number;
  marginMs: number;
  marginRounds: number;
}

/** The stabilization margin of a pool when it names none: 20 % and 10 ms, held for 3 probe rounds. */
export const DEFAULT_MARGIN = { marginPercent: 20, marginMs: 10, marginRounds: 3 } as const;

export interface PoolDoc extends StoredDoc, PoolFields {
  type: 'pool';
  updatedAt: string;
}

/** Fields a client may send; anything else is a mistake worth naming rather than ignoring. */
export const EDGE_KEYS = new Set(['name', 'ipv4', 'ipv6', 'latitude', 'longitude', 'country', 'check', 'weight', 'state', 'biasMs']);
export const POOL_KEYS = new Set(['name', 'members', 'count', 'ttl', 'failOpen', 'pins', 'marginPercent', 'marginMs', 'marginRounds']);

export function rejectUnknown(input: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(input)) {
    if (!allowed.has(key)) throw new InvalidFieldError(key, `unknown field "${key}"; expected ${[...allowed].join(', ')}`);
  }
}

export { InvalidFieldError } from '../errors.js';

export function edgeDocId(name: string): string {
  return EDGE_PREFIX + name;
}

export function poolDocId(name: string): string {
  return POOL_PREFIX + name;
}

export function isEdgeDoc(doc: StoredDoc): doc is EdgeDoc {
  return doc.type === 'edge' && typeof doc.name === 'string' && Array.isArray(doc.ipv4) && Array.isArray(doc.ipv6);
}

export function isPoolDoc(doc: StoredDoc): doc is PoolDoc {
  return doc.type === 'pool' && typeof doc.name === 'string' && Array.isArray(doc.members);
}

type Input = Record<string, unknown>;

function fail(field: string, message: string): never {
  throw new InvalidFieldError(field, message);
}

function nameField(value: unknown, field: string, what: string): string {
  if (typeof value !== 'string' || !EDGE_NAME.test(value)) fail(field, `${what} must be 1-63 of a-z, 0-9, "-", "_" (got ${JSON.stringify(value)})`);
  return value;
}

function numberField(value: unknown, field: string, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    fail(field, `${field} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function addresses(value: unknown, field: string, family: 4 | 6): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
  if (!Array.isArray(list) || list.length > 16) fail(field, `${field} must be a list of at most 16 IPv${family} addresses`);
  const out: string[] = [];
  list.forEach((item, i) => {
    if (typeof item !== 'string' || !(family === 4 ? isIPv4(item) : isIPv6(item))) fail(`${field}.${i}`, `${JSON.stringify(item)} is not an IPv${family} address`);
    const canonical = family === 4 ? item : formatIPv6(parseIPv6(item.toLowerCase()) as Buffer);
    if (!out.includes(canonical)) out.push(canonical);
  });
  return out;
}

function checkField(value: unknown): HealthCheck {
  if (value === undefined || value === null) return { type: 'none' };
  if (typeof value === 'string') {
    // CLI shorthand: "http://host:port/path", "tcp:443", "none"
    if (value === 'none') return { type: 'none' };
    const tcp = /^tcp:(\d+)$/.exec(value);
    if (tcp) return checkField({ type: 'tcp', port: Number(tcp[1]) });
    return checkField({ type: 'http', url: value });
  }
  if (typeof value !== 'object') fail('check', 'check must be {"type":"http","url":…}, {"type":"tcp","port":…} or {"type":"none"}');
  const c = value as Input;
  if (c.type === 'none') return { type: 'none' };
  if (c.type === 'http') {
    let url: URL;
    try {
      url = new URL(String(c.url));
    } catch {
      fail('check.url', `check.url ${JSON.stringify(c.url)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('check.url', 'check.url must be http:// or https://');
    const expectStatus = c.expectStatus === undefined ? 200 : numberField(c.expectStatus, 'check.expectStatus', 100, 599, true);
    return { type: 'http', url: url.href, expectStatus };
  }
  if (c.type === 'tcp') {
    const port = numberField(c.port, 'check.port', 1, 65535, true);
    if (c.host !== undefined && (typeof c.host !== 'string' || !parseIp(c.host))) fail('check.host', 'check.host must be an IP address');
    return { type: 'tcp', port, ...(typeof c.host === 'string' ? { host: c.host } : {}) };
  }
  fail('check.type', 'check.type must be "http", "tcp" or "none"');
}

/** A whole edge from a create/replace request; `name` may come from the URL. */
export function normalizeEdge(input: Input, base?: EdgeFields): EdgeFields {
  const merged: Input = { ...(base ?? {}), ...input };
  const name = nameField(merged.name, 'name', 'edge name');
  const ipv4 = addresses(merged.ipv4, 'ipv4', 4);
  const ipv6 = addresses(merged.ipv6, 'ipv6', 6);
  if (ipv4.length === 0 && ipv6.length === 0) fail('ipv4', 'an edge needs at least one address (ipv4 or ipv6)');
  const edge: EdgeFields = {
    name,
    ipv4,
    ipv6,
    check: checkField(merged.check),
    weight: merged.weight === undefined ? 100 : numberField(merged.weight, 'weight', 0, 10000, true),
    state: 'active',
    biasMs: merged.biasMs === undefined ? 0 : numberField(merged.biasMs, 'biasMs', -10000, 10000),
  };
  if (merged.state !== undefined) {
    if (!EDGE_STATES.includes(merged.state as EdgeState)) fail('state', `state must be one of ${EDGE_STATES.join(', ')}`);
    edge.state = merged.state as EdgeState;
  }
  const hasLat = merged.latitude !== undefined && merged.latitude !== null;
  const hasLon = merged.longitude !== undefined && merged.longitude !== null;
  if (hasLat !== hasLon) fail(hasLat ? 'longitude' : 'latitude', 'give both latitude and longitude, or neither (then GeoIP places the edge)');
  if (hasLat) {
    edge.latitude = numberField(merged.latitude, 'latitude', -90, 90);
    edge.longitude = numberField(merged.longitude, 'longitude', -180, 180);
  }
  if (merged.country !== undefined && merged.country !== null) {
    if (typeof merged.country !== 'string' || !/^[A-Z]{2}$/.test(merged.country)) fail('country', 'country must be an ISO 3166-1 alpha-2 code like "DE"');
    edge.country = merged.country;
  }
  return edge;
}

function pinField(value: unknown, i: number): PoolPin {
  if (typeof value !== 'object' || value === null) fail(`pins.${i}`, 'a pin is {"match":"country:JP","edges":["tyo"]}');
  const pin = value as Input;
  const match = pin.match;
  if (typeof match !== 'string') fail(`pins.${i}.match`, 'pin match must be "country:CC", "continent:XX" or "cidr:NET/LEN"');
  const [kind, arg = ''] = match.split(/:(.*)/s);
  if (kind === 'country') {
    if (!/^[A-Z]{2}$/.test(arg)) fail(`pins.${i}.match`, `"${arg}" is not an ISO country code like "JP"`);
  } else if (kind === 'continent') {
    if (!CONTINENTS.has(arg)) fail(`pins.${i}.match`, `"${arg}" is not a continent code (${[...CONTINENTS].join(', ')})`);
  } else if (kind === 'cidr') {
    const [address, len] = arg.split('/');
    const parsed = parseIp(address ?? '');
    const max = parsed?.family === 4 ? 32 : 128;
    if (!parsed || len === undefined || !/^\d+$/.test(len) || Number(len) > max) fail(`pins.${i}.match`, `"${arg}" is not a network like 203.0.113.0/24`);
  } else fail(`pins.${i}.match`, 'pin match must be "country:CC", "continent:XX" or "cidr:NET/LEN"');
  if (!Array.isArray(pin.edges) || pin.edges.length === 0) fail(`pins.${i}.edges`, 'a pin names one or more edges');
  return { match, edges: pin.edges.map((e, j) => nameField(e, `pins.${i}.edges.${j}`, 'edge name')) };
}

export function normalizePool(input: Input, base?: PoolFields): PoolFields {
  const merged: Input = { ...(base ?? {}), ...input };
  const name = nameField(merged.name, 'name', 'pool name');
  const rawMembers = typeof merged.members === 'string' ? merged.members.split(',').map((s) => s.trim()).filter(Boolean) : (merged.members ?? []);
  if (!Array.isArray(rawMembers) || rawMembers.length > 256) fail('members', 'members must be a list of at most 256 edge names');
  const members = [...new Set(rawMembers.map((m, i) => nameField(m, `members.${i}`, 'edge name')))];
  const rawPins = merged.pins ?? [];
  if (!Array.isArray(rawPins) || rawPins.length > 256) fail('pins', 'pins must be a list of at most 256 pins');
  const pins = rawPins.map(pinField);
  for (const [i, pin] of pins.entries()) {
    pin.edges.forEach((e, j) => {
      if (!members.includes(e)) fail(`pins.${i}.edges.${j}`, `pinned edge ${e} is not a member of pool ${name}`);
    });
  }
  let failOpen = true;
  if (merged.failOpen !== undefined) {
    if (typeof merged.failOpen !== 'boolean') fail('failOpen', 'failOpen must be true or false');
    failOpen = merged.failOpen;
  }
  return {
    name,
    members,
    count: merged.count === undefined ? 1 : numberField(merged.count, 'count', 1, 16, true),
    ttl: merged.ttl === undefined ? 30 : numberField(merged.ttl, 'ttl', 0, 86400, true),
    failOpen,
    pins,
    marginPercent: merged.marginPercent === undefined ? DEFAULT_MARGIN.marginPercent : numberField(merged.marginPercent, 'marginPercent', 0, 100),
    marginMs: merged.marginMs === undefined ? DEFAULT_MARGIN.marginMs : numberField(merged.marginMs, 'marginMs', 0, 10000),
    marginRounds: merged.marginRounds === undefined ? DEFAULT_MARGIN.marginRounds : numberField(merged.marginRounds, 'marginRounds', 1, 100, true),
  };
}

export function edgeFields(doc: EdgeDoc): EdgeFields {
  const { _id, _rev, type, updatedAt, ...fields } = doc;
  void _id, void _rev, void type, void updatedAt;
  return fields as EdgeFields;
}

export function poolFields(doc: PoolDoc): PoolFields {
  const { _id, _rev, type, updatedAt, ...fields } = doc;
  void _id, void _rev, void type, void updatedAt;
  return fields as PoolFields;
}
