// Node configuration: every address and path from a flag, else an EDGEDNS_* variable, else a default that runs
// one node on a bare machine (loopback, unprivileged ports, ./data).

import os from 'node:os';
import { isIP } from 'node:net';
import type { AcmeConfig } from '../acme/acme-config.js';

export type { AcmeConfig };

export interface Address {
  host: string;
  port: number;
}

export interface NodeConfig {
  dns: Address;
  api: Address;
  dataDir: string;
  zonesDir?: string;
  nodeId: string;
  /** Answer to CHAOS version.bind; REFUSED when unset. */
  chaosVersion?: string;
  logLevel: string;
  /** TCP connections idle this long are closed (RFC 7766 §6.2.3 suggests seconds, not minutes). */
  tcpIdleTimeoutMs: number;
  /** GeoIP .mmdb files (--geoip, comma-separated; "none": no GeoIP); undefined: the DB-IP City Lite package. */
  geoipPaths?: string[];
  /** Edge probes: interval and timeout (--probe-interval, --probe-timeout, seconds). */
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** CouchDB as the store (--couchdb / EDGEDNS_COUCHDB); the embedded store when unset. */
  couchdb?: CouchConfig;
  /** Prefix of every edgedns database name in CouchDB (--db-prefix / EDGEDNS_DB_PREFIX). */
  dbPrefix: string;
  /** Embedded store only: pull-replicate continuously from this CouchDB database URL (--replicate-from). */
  replicateFrom?: string;
  /** ACME DNS-01 challenge values: TTL served, lifetime, and the acme-dns registration domain (src/acme). */
  acme: AcmeConfig;
  /** Pages: the asset server's address, preview domain, blob cache and limits (src/pages). */
  pages: PagesConfig;
  /** --workers / EDGEDNS_WORKERS: DNS worker processes sharing the DNS sockets (1: answer in this process). */
  workers: number;
  /** The replication watchdog and the health heartbeat (src/cluster/watchdog.ts, src/geo/health-writer.ts). */
  cluster: ClusterConfig;
}

export interface ClusterConfig {
  /** --watchdog-interval / EDGEDNS_WATCHDOG_INTERVAL: how often every replication this node holds is checked (ms). */
  watchdogIntervalMs: number;
  /** --replication-stall / EDGEDNS_REPLICATION_STALL: pending changes and none delivered this long: restart (ms). */
  stallMs: number;
  /** --heartbeat / EDGEDNS_HEARTBEAT: the health document is rewritten at least this often when nothing changes (ms). */
  heartbeatMs: number;
}

export interface PagesConfig {
  /** --http / EDGEDNS_HTTP: the asset server (default 127.0.0.1:8080; port 80 in production). */
  http: Address;
  /** --preview-domain / EDGEDNS_PREVIEW_DOMAIN: `<deployment-id>.<this>` serves that deployment. */
  previewDomain: string;
  /** --pages-cache-mb / EDGEDNS_PAGES_CACHE_MB: bytes of hot blobs kept in memory. */
  cacheBytes: number;
  /** --pages-max-files / EDGEDNS_PAGES_MAX_FILES: files per deployment. */
  maxFiles: number;
  /** --pages-immutable-max-age / EDGEDNS_PAGES_IMMUTABLE_MAX_AGE: max-age (s) for fingerprinted assets; 0: revalidate. */
  immutableMaxAge: number;
  /** --pages-skew-grace / EDGEDNS_PAGES_SKEW_GRACE: after a switch, the previous deployment fills in this long (ms). */
  skewGraceMs: number;
}

function pagesConfig(flags: Flags, env: NodeJS.ProcessEnv): PagesConfig {
  const whole = (flag: string, variable: string, fallback: number, min: number, max: number): number => {
    const text = pick(flags, flag, env, variable);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`--${flag} "${text}" is not a whole number ${min}-${max}`);
    return value;
  };
  const previewDomain = (pick(flags, 'preview-domain', env, 'EDGEDNS_PREVIEW_DOMAIN') ?? DEFAULTS.previewDomain).toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)*$/.test(previewDomain) || previewDomain.length > 200) {
    throw new ConfigError(`--preview-domain "${previewDomain}" is not a domain name`);
  }
  return {
    http: parseAddress(pick(flags, 'http', env, 'EDGEDNS_HTTP') ?? DEFAULTS.http, '--http'),
    previewDomain,
    cacheBytes: whole('pages-cache-mb', 'EDGEDNS_PAGES_CACHE_MB', 64, 0, 1024 * 1024) * 1024 * 1024,
    maxFiles: whole('pages-max-files', 'EDGEDNS_PAGES_MAX_FILES', 20_000, 1, 1_000_000),
    immutableMaxAge: whole('pages-immutable-max-age', 'EDGEDNS_PAGES_IMMUTABLE_MAX_AGE', 31_536_000, 0, 31_536_000),
    skewGraceMs: whole('pages-skew-grace', 'EDGEDNS_PAGES_SKEW_GRACE', 600, 0, 7 * 86400) * 1000,
  };
}


function acmeConfig(flags: Flags, env: NodeJS.ProcessEnv): AcmeConfig {
  const integer = (flag: string, variable: string, fallback: number, max: number): number => {
    const text = pick(flags, flag, env, variable);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new ConfigError(`--${flag} "${text}" is not a whole number of seconds 1-${max}`);
    return value;
  };
  return {
    ttl: integer('acme-ttl', 'EDGEDNS_ACME_TTL', 60, 86400),
    lifetimeMs: integer('acme-lifetime', 'EDGEDNS_ACME_LIFETIME', 3600, 7 * 86400) * 1000,
    dnsDomain: pick(flags, 'acme-dns-domain', env, 'EDGEDNS_ACME_DNS_DOMAIN'),
  };
}

export interface CouchConfig {
  /** Server URL; credentials may be in it or in user/password. */
  url: string;
  user?: string;
  password?: string;
}

export type Flags = Record<string, string | boolean | undefined>;

export class ConfigError extends Error {}

export const DEFAULTS = {
  dns: '127.0.0.1:5300',
  api: '127.0.0.1:8053',
  http: '127.0.0.1:8080',
  previewDomain: 'preview.localhost',
  data: './data',
  logLevel: 'info',
};

export function parseAddress(text: string, what: string): Address {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new ConfigError(`${what} "${text}" is not HOST:PORT (use [::1]:5300 for IPv6)`);
  const host = m[1];
  const port = Number(m[2]);
  if (!isIP(host) && host !== 'localhost') throw new ConfigError(`${what} host "${host}" is not an IP address`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${what} port "${m[2]}" is not 0-65535`);
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

function seconds(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 3600) throw new ConfigError(`${what} "${text}" is not a number of seconds between 0 and 3600`);
  return value;
}

/** `--geoip`: comma-separated .mmdb paths; "none" for no GeoIP; absent means the bundled DB-IP City Lite files. */
function geoipPaths(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  if (text === 'none') return [];
  const paths = text.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (paths.length === 0) throw new ConfigError(`--geoip "${text}" names no file`);
  return paths;
}

/** `--workers N` (1-64) or `auto`: one per CPU this process may use. */
function workerCount(text: string | undefined): number {
  if (text === undefined) return 1;
  if (text === 'auto') return Math.max(1, Math.min(64, os.availableParallelism()));
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new ConfigError(`--workers "${text}" is not a whole number 1-64 or "auto"`);
  return count;
}

function pick(flags: Flags, flag: string, env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = flags[flag];
  if (typeof value === 'string') return value;
  if (value === true) throw new ConfigError(`--${flag} needs a value`);
  const fromEnv = env[variable];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
}

export function resolveConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const nodeId = pick(flags, 'node-id', env, 'EDGEDNS_NODE_ID') ?? os.hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(nodeId)) {
    throw new ConfigError(`node id "${nodeId}" must be 1-63 letters, digits, ".", "_" or "-"`);
  }
  const couchUrl = pick(flags, 'couchdb', env, 'EDGEDNS_COUCHDB');
  if (couchUrl !== undefined && !/^https?:\/\/[^/]/.test(couchUrl)) throw new ConfigError(`--couchdb "${couchUrl}" is not an http(s) URL`);
  const dbPrefix = pick(flags, 'db-prefix', env, 'EDGEDNS_DB_PREFIX') ?? 'edgedns_';
  if (!/^[a-z][a-z0-9_$()+-]*$/.test(dbPrefix)) throw new ConfigError(`--db-prefix "${dbPrefix}" must start with a-z and hold only a-z, 0-9, _$()+- (CouchDB database names)`);
  const replicateFrom = pick(flags, 'replicate-from', env, 'EDGEDNS_REPLICATE_FROM');
  if (replicateFrom !== undefined && !/^https?:\/\/[^/]/.test(replicateFrom)) throw new ConfigError(`--replicate-from "${replicateFrom}" is not an http(s) URL`);
  if (replicateFrom !== undefined && couchUrl !== undefined) throw new ConfigError('--replicate-from is for the embedded store; with --couchdb, join the cluster instead (edgedns cluster join)');
  return {
    couchdb:
      couchUrl === undefined
        ? undefined
        : // Environment only: a password given as a flag would show in `ps`.
          { url: couchUrl, user: env.EDGEDNS_COUCHDB_USER || undefined, password: env.EDGEDNS_COUCHDB_PASSWORD || undefined },
    dbPrefix,
    replicateFrom,
    dns: parseAddress(pick(flags, 'dns', env, 'EDGEDNS_DNS') ?? DEFAULTS.dns, '--dns'),
    api: parseAddress(pick(flags, 'api', env, 'EDGEDNS_API') ?? DEFAULTS.api, '--api'),
    dataDir: pick(flags, 'data', env, 'EDGEDNS_DATA') ?? DEFAULTS.data,
    zonesDir: pick(flags, 'zones', env, 'EDGEDNS_ZONES'),
    nodeId,
    chaosVersion: pick(flags, 'chaos-version', env, 'EDGEDNS_CHAOS_VERSION'),
    logLevel: pick(flags, 'log-level', env, 'EDGEDNS_LOG_LEVEL') ?? DEFAULTS.logLevel,
    tcpIdleTimeoutMs: seconds(pick(flags, 'tcp-idle-timeout', env, 'EDGEDNS_TCP_IDLE_TIMEOUT') ?? '10', '--tcp-idle-timeout') * 1000,
    geoipPaths: geoipPaths(pick(flags, 'geoip', env, 'EDGEDNS_GEOIP')),
    probeIntervalMs: seconds(pick(flags, 'probe-interval', env, 'EDGEDNS_PROBE_INTERVAL') ?? '10', '--probe-interval') * 1000,
    probeTimeoutMs: seconds(pick(flags, 'probe-timeout', env, 'EDGEDNS_PROBE_TIMEOUT') ?? '2', '--probe-timeout') * 1000,
    acme: acmeConfig(flags, env),
    pages: pagesConfig(flags, env),
    workers: workerCount(pick(flags, 'workers', env, 'EDGEDNS_WORKERS')),
    cluster: {
      watchdogIntervalMs: seconds(pick(flags, 'watchdog-interval', env, 'EDGEDNS_WATCHDOG_INTERVAL') ?? '3', '--watchdog-interval') * 1000,
      stallMs: seconds(pick(flags, 'replication-stall', env, 'EDGEDNS_REPLICATION_STALL') ?? '10', '--replication-stall') * 1000,
      heartbeatMs: seconds(pick(flags, 'heartbeat', env, 'EDGEDNS_HEARTBEAT') ?? '60', '--heartbeat') * 1000,
    },
  };
}
