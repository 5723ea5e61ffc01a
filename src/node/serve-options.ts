// Every option of `edgedns serve`, declared once. The config loader (config.ts) reads values through these
// declarations, `edgedns serve --help` and the table in docs/configuration.md are generated from them, and
// test/cli/serve-options.test.ts fails when one of those disagrees. To add an option, add one entry here and use
// its value in resolveConfig; then run `npm run docs:options`.

import os from 'node:os';
import {
  acmeDirectory,
  addressList,
  ConfigError,
  couchPrefix,
  domainName,
  email,
  geoipPaths,
  httpUrl,
  latLon,
  logLevel,
  networkList,
  nodeId,
  nsidText,
  onOff,
  parseAddress,
  secondsAsMs,
  secondsOrAuto,
  text,
  wholeNumber,
  workerCount,
  type ValueParser,
} from './option-values.js';

export interface ServeOption<T = unknown> {
  /** The flag without its dashes; none for a setting read only from the environment (a password in `ps`). */
  flag?: string;
  env: string;
  /** 'boolean': a switch, given as the flag alone. Default 'string'. */
  type?: 'string' | 'boolean';
  /** How help writes the value: HOST:PORT, DIR, S (seconds), N. */
  value: string;
  /** The text an absent value stands for, parsed like a given one; a function when it depends on the machine. */
  default?: string | (() => string);
  /** What the default is, for people, when it is not one literal text (or there is none: what absence means). */
  defaultText?: string;
  /** One sentence for --help and the docs table; `code` in backticks (stripped on the terminal). */
  help: string;
  /** A valid value other than the default: the declarations test sets it by flag and by variable. */
  example: string;
  /** The key of another option this one only matters with (the test sets both). */
  onlyWith?: string;
  /** The flag may be given several times; the values are joined with commas. */
  repeatable?: boolean;
  parse: ValueParser<T>;
}

const address: ValueParser<ReturnType<typeof parseAddress>> = (value, name) => parseAddress(value, name);

export const SERVE_OPTIONS = {
  dns: {
    flag: 'dns', env: 'EDGEDNS_DNS', value: 'HOST:PORT[,HOST:PORT]', default: '127.0.0.1:5300', example: '0.0.0.0:53,[::]:53', parse: addressList, repeatable: true,
    help: 'DNS addresses, UDP and TCP on each: comma-separated or the flag repeated, IPv4 and IPv6 together (`127.0.0.1:53,[::1]:53`)',
  },
  api: {
    flag: 'api', env: 'EDGEDNS_API', value: 'HOST:PORT', default: '127.0.0.1:8053', example: '[::1]:8053', parse: address,
    help: 'HTTP API address',
  },
  apiHeadersTimeout: {
    flag: 'api-headers-timeout', env: 'EDGEDNS_API_HEADERS_TIMEOUT', value: 'S', default: '10', example: '5', parse: secondsAsMs,
    help: 'an API client that has not sent its request headers within S seconds is disconnected',
  },
  apiRequestTimeout: {
    flag: 'api-request-timeout', env: 'EDGEDNS_API_REQUEST_TIMEOUT', value: 'S', default: '120', example: '300', parse: secondsAsMs,
    help: 'an API request whose body has not all arrived within S seconds is answered 408 (a 25 MiB site file at 1.7 Mbit/s takes 120 s)',
  },
  data: {
    flag: 'data', env: 'EDGEDNS_DATA', value: 'DIR', default: './data', example: '/var/lib/edgedns', parse: text,
    help: 'data directory: the embedded database (`db/`) and `admin.key`',
  },
  zones: {
    flag: 'zones', env: 'EDGEDNS_ZONES', value: 'DIR', defaultText: 'none (`npm start` passes `zones`)', example: 'zones', parse: text,
    help: 'import each `*.zone` file whose zone the store does not have yet, and the edges and pools of `DIR/edges.json`',
  },
  nodeId: {
    flag: 'node-id', env: 'EDGEDNS_NODE_ID', value: 'NAME', default: () => os.hostname(), defaultText: 'the host name', example: 'ams-1', parse: nodeId,
    help: "this node's name; answered to `CH TXT id.server` and `hostname.bind`",
  },
  nsid: {
    flag: 'nsid', env: 'EDGEDNS_NSID', value: 'TEXT', defaultText: 'the node id (`--node-id`)', example: 'ams-1.ns.example.net', parse: nsidText,
    help: 'the name server identifier (RFC 5001) sent to queries that ask for it (`dig +nsid`); `none`: sent to no one',
  },
  chaosVersion: {
    flag: 'chaos-version', env: 'EDGEDNS_CHAOS_VERSION', value: 'TEXT', defaultText: 'none (REFUSED)', example: 'edgedns', parse: text,
    help: 'answer to `CH TXT version.bind`',
  },
  tcpIdleTimeout: {
    flag: 'tcp-idle-timeout', env: 'EDGEDNS_TCP_IDLE_TIMEOUT', value: 'S', default: '10', example: '30', parse: secondsAsMs,
    help: 'close DNS-over-TCP connections idle this many seconds',
  },
  tcpMessageTimeout: {
    flag: 'tcp-message-timeout', env: 'EDGEDNS_TCP_MESSAGE_TIMEOUT', value: 'S', default: '2', example: '5', parse: secondsAsMs,
    help: "a DNS-over-TCP message must be whole this many seconds after its first octet, however slowly it trickles (Knot's `tcp-io-timeout`)",
  },
  tcpMaxConnections: {
    flag: 'tcp-max-connections', env: 'EDGEDNS_TCP_MAX_CONNECTIONS', value: 'N', default: '512', example: '1024', parse: wholeNumber(1, 65_536),
    help: 'DNS-over-TCP connections open at once on each `--dns` address; at the cap a new one replaces the oldest idle one',
  },
  tcpMaxPerAddress: {
    flag: 'tcp-max-per-address', env: 'EDGEDNS_TCP_MAX_PER_ADDRESS', value: 'N', default: '16', example: '4', parse: wholeNumber(1, 65_536),
    help: 'DNS-over-TCP connections open at once from one IPv4 address or IPv6 /64',
  },
  rrlRate: {
    flag: 'rrl-rate', env: 'EDGEDNS_RRL_RATE', value: 'N', default: '200', example: '50', parse: wholeNumber(0, 1_000_000),
    help: 'UDP responses per second per client /24 or /56, response class and name (response rate limiting); 0: off',
  },
  rrlSlip: {
    flag: 'rrl-slip', env: 'EDGEDNS_RRL_SLIP', value: 'N', default: '2', example: '1', parse: wholeNumber(0, 10),
    help: 'every Nth rate-limited response is sent truncated (TC=1, so real clients retry over TCP), the others dropped; 0: drop all',
  },
  rrlWhitelist: {
    flag: 'rrl-whitelist', env: 'EDGEDNS_RRL_WHITELIST', value: 'CIDR[,CIDR]', default: '127.0.0.0/8,::1/128', example: 'none', parse: networkList,
    help: 'networks never rate-limited, or `none`',
  },
  workers: {
    flag: 'workers', env: 'EDGEDNS_WORKERS', value: 'N', default: '1', example: '2', parse: workerCount,
    help: 'DNS worker processes sharing the DNS sockets, `auto` for one per CPU; the main process keeps the store, API, probes and pages (1: it answers DNS too)',
  },
  heapGrowth: {
    flag: 'heap-growth', env: 'EDGEDNS_HEAP_GROWTH', value: 'PERCENT', default: '50', example: '100', parse: wholeNumber(0, 400),
    help: "how far the JavaScript heap may grow past its live size before a full collection (V8's `--heap-growing-percent`); 0: V8's own choice (a 100,000-record import then peaks near 700 MB instead of 430 MB, see [benchmarks](benchmarks.md#big-zones))",
  },
  drainTimeout: {
    flag: 'drain-timeout', env: 'EDGEDNS_DRAIN_TIMEOUT', value: 'S', default: '5', example: '20', parse: secondsAsMs,
    help: 'on SIGTERM, DNS-over-TCP answers and API requests in flight get this long to finish before their connections are closed',
  },
  config: {
    flag: 'config', env: 'EDGEDNS_SERVE_CONFIG', value: 'FILE', defaultText: 'none', example: 'deploy/systemd/edgedns.conf', parse: text,
    help: 'a file of `EDGEDNS_*=value` lines (the variables of this table), read at start and again on SIGHUP; a flag or variable wins over the file',
  },
  logLevel: {
    flag: 'log-level', env: 'EDGEDNS_LOG_LEVEL', value: 'LEVEL', default: 'info', example: 'debug', parse: logLevel,
    help: 'pino level: `debug`, `info`, `warn`, `error` (or `trace`, `fatal`, `silent`)',
  },
  geoip: {
    flag: 'geoip', env: 'EDGEDNS_GEOIP', value: 'PATH[,PATH]', defaultText: 'DB-IP City Lite (npm package)', example: 'none', parse: geoipPaths,
    help: 'GeoIP `.mmdb` files: MaxMind GeoLite2/GeoIP2 City or DB-IP City Lite; `none` for no GeoIP',
  },
  probeInterval: {
    flag: 'probe-interval', env: 'EDGEDNS_PROBE_INTERVAL', value: 'S', default: '10', example: '5', parse: secondsAsMs,
    help: 'probe every edge a pool uses every S seconds',
  },
  probeTimeout: {
    flag: 'probe-timeout', env: 'EDGEDNS_PROBE_TIMEOUT', value: 'S', default: '2', example: '1', parse: secondsAsMs,
    help: 'a probe that takes longer fails',
  },
  location: {
    flag: 'location', env: 'EDGEDNS_LOCATION', value: 'LAT,LON', defaultText: 'none (a quarter of each RTT counts)', example: '50.11,8.68', parse: latLon,
    help: "where this node is, in decimal degrees: its probe RTTs are then corrected for its own distance to each edge (latency steering, see [geo](geo.md#latency-steering))",
  },
  couchdb: {
    flag: 'couchdb', env: 'EDGEDNS_COUCHDB', value: 'URL', defaultText: 'none: the embedded store in `--data`', example: 'http://127.0.0.1:5984', parse: httpUrl,
    help: 'use CouchDB as the store; credentials in the URL or in `EDGEDNS_COUCHDB_USER` / `EDGEDNS_COUCHDB_PASSWORD`',
  },
  couchdbUser: {
    env: 'EDGEDNS_COUCHDB_USER', value: 'NAME', defaultText: 'none', example: 'edgedns', onlyWith: 'couchdb', parse: text,
    help: 'CouchDB user name, with `--couchdb` (environment only)',
  },
  couchdbPassword: {
    env: 'EDGEDNS_COUCHDB_PASSWORD', value: 'PASSWORD', defaultText: 'none', example: 'secret', onlyWith: 'couchdb', parse: text,
    help: 'CouchDB password, with `--couchdb` (environment only: a flag would show in `ps`)',
  },
  dbPrefix: {
    flag: 'db-prefix', env: 'EDGEDNS_DB_PREFIX', value: 'P', default: 'edgedns_', example: 'cdn_', parse: couchPrefix,
    help: 'prefix of every edgedns database name in CouchDB',
  },
  replicateFrom: {
    flag: 'replicate-from', env: 'EDGEDNS_REPLICATE_FROM', value: 'URL', defaultText: 'none', example: 'http://127.0.0.1:5984', parse: httpUrl,
    help: 'embedded store only: pull continuously from this CouchDB server (an edge replica without CouchDB)',
  },
  acmeTtl: {
    flag: 'acme-ttl', env: 'EDGEDNS_ACME_TTL', value: 'S', default: '60', example: '30', parse: wholeNumber(1, 86400, 'of seconds '),
    help: 'TTL of ACME challenge TXT records',
  },
  acmeLifetime: {
    flag: 'acme-lifetime', env: 'EDGEDNS_ACME_LIFETIME', value: 'S', default: '3600', example: '600', parse: wholeNumber(1, 7 * 86400, 'of seconds '),
    help: 'a challenge value not removed expires after S seconds',
  },
  acmeDnsDomain: {
    flag: 'acme-dns-domain', env: 'EDGEDNS_ACME_DNS_DOMAIN', value: 'NAME', defaultText: 'none (acme-dns off)', example: 'auth.example.com', parse: text,
    help: 'acme-dns registrations get `<uuid>.NAME`; NAME must lie in a served zone',
  },
  http: {
    flag: 'http', env: 'EDGEDNS_HTTP', value: 'HOST:PORT', default: '127.0.0.1:8080', example: '0.0.0.0:80', parse: address,
    help: 'the asset server for deployed sites; port 80 in production',
  },
  https: {
    flag: 'https', env: 'EDGEDNS_HTTPS', value: 'HOST:PORT', default: '127.0.0.1:8443', example: '0.0.0.0:443', parse: address,
    help: 'the asset server over HTTPS (HTTP/2 and HTTP/1.1, the certificate chosen by SNI); port 443 in production',
  },
  secretsKeyFile: {
    flag: 'secrets-key-file', env: 'EDGEDNS_SECRETS_KEY_FILE', value: 'FILE', defaultText: '`secrets.key` in `--data`', example: '/etc/edgedns/secrets.key', parse: text,
    help: 'the cluster key that seals private keys in the store: created (mode 0600) by the first node, copied to every other (docs/https.md)',
  },
  acmeDirectory: {
    flag: 'acme-directory', env: 'EDGEDNS_ACME_DIRECTORY', value: 'URL', default: 'letsencrypt', example: 'https://acme.example.net/directory', parse: acmeDirectory,
    help: 'the ACME CA sites get certificates from: a directory URL, `letsencrypt`, `letsencrypt-staging`, or `none` (order nothing); ordering agrees to its terms',
  },
  acmeStaging: {
    flag: 'acme-staging', env: 'EDGEDNS_ACME_STAGING', type: 'boolean', value: '', default: 'false', example: 'true', parse: onOff,
    help: "Let's Encrypt's staging CA instead of production: certificates no browser trusts, limits for trying things out",
  },
  acmeEmail: {
    flag: 'acme-email', env: 'EDGEDNS_ACME_EMAIL', value: 'ADDRESS', defaultText: 'none', example: 'ops@example.com', parse: email,
    help: "contact address of the cluster's ACME account",
  },
  acmeCaFile: {
    flag: 'acme-ca-file', env: 'EDGEDNS_ACME_CA_FILE', value: 'FILE', defaultText: 'none (the system roots)', example: '/etc/ssl/private-ca.pem', parse: text,
    help: "PEM certificates trusted for the ACME directory's HTTPS besides the system roots (a private CA)",
  },
  acmeNsPort: {
    flag: 'acme-ns-port', env: 'EDGEDNS_ACME_NS_PORT', value: 'PORT', default: '53', example: '5300', parse: wholeNumber(1, 65535),
    help: "DNS port of the zones' nameservers, which must all answer a challenge before the CA is asked to validate it",
  },
  previewDomain: {
    flag: 'preview-domain', env: 'EDGEDNS_PREVIEW_DOMAIN', value: 'NAME', default: 'preview.localhost', example: 'preview.example.net', parse: domainName,
    help: '`<deployment-id>.NAME` serves that deployment (a preview)',
  },
  pagesCacheMb: {
    flag: 'pages-cache-mb', env: 'EDGEDNS_PAGES_CACHE_MB', value: 'N', default: '64', example: '256', parse: wholeNumber(0, 1024 * 1024),
    help: 'MiB of hot site files kept in memory (0: none)',
  },
  pagesMaxFiles: {
    flag: 'pages-max-files', env: 'EDGEDNS_PAGES_MAX_FILES', value: 'N', default: '20000', example: '50000', parse: wholeNumber(1, 1_000_000),
    help: 'files per deployment',
  },
  pagesImmutableMaxAge: {
    flag: 'pages-immutable-max-age', env: 'EDGEDNS_PAGES_IMMUTABLE_MAX_AGE', value: 'S', default: '31536000', example: '86400', parse: wholeNumber(0, 31_536_000),
    help: '`Cache-Control: max-age` for fingerprinted files (`app.3f9a1c2e.js`); 0: always revalidate',
  },
  pagesSkewGrace: {
    flag: 'pages-skew-grace', env: 'EDGEDNS_PAGES_SKEW_GRACE', value: 'S', default: '600', example: '60', parse: wholeNumber(0, 7 * 86400, 'of seconds '),
    help: 'after a production switch, a path the new deployment lacks is served from the previous one for S seconds (skew protection, see [pages](pages.md#skew-protection)); 0: off',
  },
  watchdogInterval: {
    flag: 'watchdog-interval', env: 'EDGEDNS_WATCHDOG_INTERVAL', value: 'S', default: '3', example: '1', parse: secondsAsMs,
    help: 'CouchDB store: check every replication this node holds every S seconds (see [cluster](cluster.md#replication-watchdog))',
  },
  replicationStall: {
    flag: 'replication-stall', env: 'EDGEDNS_REPLICATION_STALL', value: 'S', default: '10', example: '30', parse: secondsAsMs,
    help: 'a replication with changes pending and none delivered for S seconds is restarted',
  },
  heartbeat: {
    flag: 'heartbeat', env: 'EDGEDNS_HEARTBEAT', value: 'S', default: 'auto', example: '300', parse: secondsOrAuto,
    help: "the node's health document is rewritten at least this often when nothing changes, and each time every node replicates it; `auto`: 60 s for each other node it knows, 60-600 s. A peer silent for 2.5 heartbeats makes the others stale; a dead node's observations vote for a heartbeat more (see [cluster](cluster.md#heartbeat))",
  },
} satisfies Record<string, ServeOption>;

export type ServeOptions = typeof SERVE_OPTIONS;

/** The value of one option: what its parser returns, or undefined when it may be absent (it has no default). */
export type OptionValue<O> = O extends { parse: ValueParser<infer T> } ? (O extends { default: string | (() => string) } ? T : T | undefined) : never;

export type OptionValues<D> = { [K in keyof D]: OptionValue<D[K]> };

export type Flags = Record<string, string | boolean | undefined>;

/**
 * Reads every declared option: its flag, else its variable (an empty one counts as unset), else its default.
 * A flag that no option declares is an error, so a typo in a caller (a test, a bench) cannot go unnoticed.
 */
export function readOptions<D extends Record<string, ServeOption>>(declarations: D, flags: Flags, env: NodeJS.ProcessEnv): OptionValues<D> {
  const known = new Set(Object.values(declarations).map((o) => o.flag));
  for (const [flag, value] of Object.entries(flags)) {
    if (value !== undefined && !known.has(flag)) throw new ConfigError(`unknown option --${flag}`);
  }
  const values: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(declarations)) {
    const given = option.flag === undefined ? undefined : flags[option.flag];
    let raw: string | undefined;
    let name = option.env;
    if (given !== undefined && given !== false) {
      if (given === true && option.type !== 'boolean') throw new ConfigError(`--${option.flag} needs a value`);
      raw = given === true ? 'true' : given;
      name = `--${option.flag}`;
    } else if (env[option.env] !== undefined && env[option.env] !== '') {
      raw = env[option.env];
    } else if (option.default !== undefined) {
      raw = typeof option.default === 'function' ? option.default() : option.default;
      name = option.flag === undefined ? option.env : `--${option.flag}`;
    }
    values[key] = raw === undefined ? undefined : option.parse(raw, name);
  }
  return values as OptionValues<D>;
}

export function readServeOptions(flags: Flags, env: NodeJS.ProcessEnv): OptionValues<ServeOptions> {
  return readOptions(SERVE_OPTIONS, flags, env);
}
