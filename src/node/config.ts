// Node configuration: every address and path from a flag, else an EDGEDNS_* variable, else a default that runs
// one node on a bare machine (loopback, unprivileged ports, ./data). The options themselves are declared in
// serve-options.ts; this file shapes their values into what the node's parts take.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { directoryUrl, type AcmeConfig } from '../acme/acme-config.js';
import type { PagesSettings } from '../pages/pages.js';
import { ConfigError, type Address } from './option-values.js';
import { readServeOptions, SERVE_OPTIONS, type Flags } from './serve-options.js';

export type { AcmeConfig, Address, Flags };
export { ConfigError };
export { parseAddress } from './option-values.js';

export interface NodeConfig {
  /** DNS addresses: each gets a UDP socket and a TCP listener. */
  dns: Address[];
  api: Address;
  /** Deadlines for an API client's headers and whole request (slow clients). */
  apiTimeouts: { headersMs: number; requestMs: number };
  dataDir: string;
  zonesDir?: string;
  nodeId: string;
  /** NSID (RFC 5001) sent to queries that ask for it; none when unset. */
  nsid?: string;
  /** On SIGTERM, in-flight TCP answers and API requests get this long to finish. */
  drainTimeoutMs: number;
  /** The --config file: read at start and on SIGHUP. */
  configFile?: string;
  /** Answer to CHAOS version.bind; REFUSED when unset. */
  chaosVersion?: string;
  logLevel: string;
  /** TCP connections idle this long are closed (RFC 7766 §6.2.3 suggests seconds, not minutes). */
  tcpIdleTimeoutMs: number;
  /** A TCP message must be complete this long after its first octet (Knot's tcp-io-timeout). */
  tcpMessageTimeoutMs: number;
  /** TCP connections open at once; at the cap, a new one replaces the oldest idle one. */
  tcpMaxConnections: number;
  /** TCP connections open at once from one IPv4 address or IPv6 /64. */
  tcpMaxPerAddress: number;
  /** Response rate limiting of UDP answers (src/dns/rrl.ts). */
  rrl: RrlConfig;
  /** GeoIP .mmdb files ("none": an empty list, no GeoIP); undefined: the DB-IP City Lite package. */
  geoipPaths?: string[];
  /** Edge probes: interval and timeout. */
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** Where this node is (--location): other nodes take its distance out of the RTTs it measures. */
  location?: { latitude: number; longitude: number };
  /** CouchDB as the store; the embedded store when unset. */
  couchdb?: CouchConfig;
  /** Prefix of every edgedns database name in CouchDB. */
  dbPrefix: string;
  /** Embedded store only: pull-replicate continuously from this CouchDB database URL. */
  replicateFrom?: string;
  /** ACME DNS-01 challenge values: TTL served, lifetime, and the acme-dns registration domain (src/acme). */
  acme: AcmeConfig;
  /** Pages: the asset server's address, preview domain, blob cache and limits (src/pages). */
  pages: PagesSettings;
  /** DNS worker processes sharing the DNS sockets (1: answer in this process). */
  workers: number;
  /** V8's heap growing percent, set at start (0: V8's own). */
  heapGrowthPercent: number;
  /** The replication watchdog and the health heartbeat (src/cluster/watchdog.ts, src/geo/health-writer.ts). */
  cluster: ClusterConfig;
  /** The cluster secrets key file (src/secrets). */
  secretsKeyFile: string;
}

export interface RrlConfig {
  /** Responses per second per (client network, response class, name); 0 turns rate limiting off. */
  rate: number;
  /** Every Nth limited response is sent truncated (TC=1) instead of dropped; 0 drops them all. */
  slip: number;
  /** Networks never limited (CIDR list). */
  whitelist: string[];
}

export interface ClusterConfig {
  /** How often every replication this node holds is checked (ms). */
  watchdogIntervalMs: number;
  /** Pending changes and none delivered this long: the replication is restarted (ms). */
  stallMs: number;
  /** The health document is rewritten at least this often when nothing changes (ms), or `auto` (health-writer.ts). */
  heartbeatMs: number | 'auto';
}

export interface CouchConfig {
  /** Server URL; credentials may be in it or in user/password. */
  url: string;
  user?: string;
  password?: string;
}

/** The variables every option reads; a --config file may set only these. */
const OPTION_VARIABLES = new Set(Object.values(SERVE_OPTIONS).map((o) => o.env));

/**
 * A --config file: `EDGEDNS_…=value` lines, the variables of the serve options (systemd's EnvironmentFile format:
 * `#` comments, blank lines, a value optionally in quotes). A name no option reads is an error, so a typo shows.
 */
export function readConfigFile(file: string): Record<string, string> {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${file}: ${(err as Error).message}`);
  }
  const values: Record<string, string> = {};
  content.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`--config ${file} line ${i + 1}: not NAME=value`);
    const [, name, rawValue] = m;
    if (!OPTION_VARIABLES.has(name) || name === SERVE_OPTIONS.config.env) throw new ConfigError(`--config ${file} line ${i + 1}: ${name} is not an edgedns serve variable`);
    const quoted = /^"(.*)"$/.exec(rawValue) ?? /^'(.*)'$/.exec(rawValue);
    values[name] = quoted ? quoted[1] : rawValue;
  });
  return values;
}

/** The file named by --config or EDGEDNS_SERVE_CONFIG (EDGEDNS_CONFIG is the ACME hook's file), if any. */
function configFileOf(flags: Flags, env: NodeJS.ProcessEnv): string | undefined {
  const flag = flags[SERVE_OPTIONS.config.flag];
  if (typeof flag === 'string' && flag !== '') return flag;
  const variable = env[SERVE_OPTIONS.config.env];
  return variable === undefined || variable === '' ? undefined : variable;
}

export function resolveConfig(flags: Flags, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const file = configFileOf(flags, env);
  // A flag wins over a variable, a variable over the file: the file is the node's defaults, reread on SIGHUP.
  const o = readServeOptions(flags, file === undefined ? env : { ...readConfigFile(file), ...definedOnly(env) });
  if (o.replicateFrom !== undefined && o.couchdb !== undefined) {
    throw new ConfigError('--replicate-from is for the embedded store; with --couchdb, join the cluster instead (edgedns cluster join)');
  }
  if (o.acmeStaging && o.acmeDirectory !== 'letsencrypt') {
    throw new ConfigError("--acme-staging means Let's Encrypt's staging CA; with another --acme-directory, give that CA's staging URL instead");
  }
  return {
    couchdb: o.couchdb === undefined ? undefined : { url: o.couchdb, user: o.couchdbUser, password: o.couchdbPassword },
    dbPrefix: o.dbPrefix,
    replicateFrom: o.replicateFrom,
    dns: o.dns,
    api: o.api,
    apiTimeouts: { headersMs: o.apiHeadersTimeout, requestMs: o.apiRequestTimeout },
    dataDir: o.data,
    zonesDir: o.zones,
    nodeId: o.nodeId,
    nsid: o.nsid === undefined ? o.nodeId : o.nsid === '' ? undefined : o.nsid,
    drainTimeoutMs: o.drainTimeout,
    configFile: o.config,
    chaosVersion: o.chaosVersion,
    logLevel: o.logLevel,
    tcpIdleTimeoutMs: o.tcpIdleTimeout,
    tcpMessageTimeoutMs: o.tcpMessageTimeout,
    tcpMaxConnections: o.tcpMaxConnections,
    tcpMaxPerAddress: o.tcpMaxPerAddress,
    rrl: { rate: o.rrlRate, slip: o.rrlSlip, whitelist: o.rrlWhitelist },
    geoipPaths: o.geoip,
    probeIntervalMs: o.probeInterval,
    probeTimeoutMs: o.probeTimeout,
    location: o.location,
    acme: {
      ttl: o.acmeTtl,
      lifetimeMs: o.acmeLifetime * 1000,
      dnsDomain: o.acmeDnsDomain,
      directoryUrl: directoryUrl(o.acmeDirectory, o.acmeStaging),
      email: o.acmeEmail,
      caFile: o.acmeCaFile,
      nsPort: o.acmeNsPort,
    },
    pages: {
      http: o.http,
      https: o.https,
      previewDomain: o.previewDomain,
      cacheBytes: o.pagesCacheMb * 1024 * 1024,
      maxFiles: o.pagesMaxFiles,
      immutableMaxAge: o.pagesImmutableMaxAge,
      skewGraceMs: o.pagesSkewGrace * 1000,
    },
    workers: o.workers,
    heapGrowthPercent: o.heapGrowth,
    cluster: { watchdogIntervalMs: o.watchdogInterval, stallMs: o.replicationStall, heartbeatMs: o.heartbeat },
    secretsKeyFile: o.secretsKeyFile ?? path.join(o.data, 'secrets.key'),
  };
}

/** The variables that are set to something: an empty one counts as unset, so it must not hide the file's value. */
function definedOnly(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}
