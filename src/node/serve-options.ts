// Every option of `edgedns serve`, declared once. The config loader (config.ts) reads values through these
// declarations, `edgedns serve --help` and the table in docs/configuration.md are generated from them, and
// test/cli/serve-options.test.ts fails when one of those disagrees. To add an option, add one entry here and use
// its value in resolveConfig; then run `npm run docs:options`.

import os from 'node:os';
import {
  ConfigError,
  couchPrefix,
  domainName,
  geoipPaths,
  httpUrl,
  logLevel,
  nodeId,
  parseAddress,
  secondsAsMs,
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
  parse: ValueParser<T>;
}

const address: ValueParser<ReturnType<typeof parseAddress>> = (value, name) => parseAddress(value, name);

export const SERVE_OPTIONS = {
  dns: {
    flag: 'dns', env: 'EDGEDNS_DNS', value: 'HOST:PORT', default: '127.0.0.1:5300', example: '0.0.0.0:53', parse: address,
    help: 'DNS address, UDP and TCP (`[::1]:5300` for IPv6)',
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
  chaosVersion: {
    flag: 'chaos-version', env: 'EDGEDNS_CHAOS_VERSION', value: 'TEXT', defaultText: 'none (REFUSED)', example: 'edgedns', parse: text,
    help: 'answer to `CH TXT version.bind`',
  },
  tcpIdleTimeout: {
    flag: 'tcp-idle-timeout', env: 'EDGEDNS_TCP_IDLE_TIMEOUT', value: 'S', default: '10', example: '30', parse: secondsAsMs,
    help: 'close DNS-over-TCP connections idle this many seconds',
  },
  workers: {
    flag: 'workers', env: 'EDGEDNS_WORKERS', value: 'N', default: '1', example: '2', parse: workerCount,
    help: 'DNS worker processes sharing the DNS sockets, `auto` for one per CPU; the main process keeps the store, API, probes and pages (1: it answers DNS too)',
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
