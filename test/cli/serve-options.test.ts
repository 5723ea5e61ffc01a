// `edgedns serve` options are declared once (src/node/serve-options.ts); the config loader, `serve --help` and the
// table in docs/configuration.md must agree with the declarations, and no option may exist in one and not the others.

import t from 'tap';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, resolveConfig } from '../../src/node/config.js';
import { onOff, text } from '../../src/node/option-values.js';
import { readOptions, SERVE_OPTIONS, type ServeOption } from '../../src/node/serve-options.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { parseCommandLine } from '../../src/cli/args.js';
import { optionsMarkdown, serveCommandOptions, TABLE_END, TABLE_START } from '../../src/cli/serve-help.js';

const SERVE_HELP = COMMANDS.serve.help;

const OPTIONS: [string, ServeOption][] = Object.entries(SERVE_OPTIONS);

t.test('docs/configuration.md holds the table generated from the declarations', async (t) => {
  const doc = await readFile('docs/configuration.md', 'utf8');
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  t.ok(start >= 0 && end > start, `docs/configuration.md has ${TABLE_START} ... ${TABLE_END}`);
  const table = doc.slice(start + TABLE_START.length + 1, end);
  t.equal(table, optionsMarkdown(), 'the options table in docs/configuration.md differs from src/node/serve-options.ts: run `npm run docs:options`');
  for (const [, o] of OPTIONS) t.ok(table.includes(`\`${o.env}\``), `the table names ${o.env}`);
});

t.test('serve --help names every option with its variable, and accepts exactly the declared flags', async (t) => {
  for (const [, o] of OPTIONS) {
    if (o.flag !== undefined) t.match(SERVE_HELP, new RegExp(`^  --${o.flag}\\b`, 'm'), `--${o.flag} in serve --help`);
    t.ok(SERVE_HELP.includes(o.env), `${o.env} in serve --help`);
  }
  const flags = OPTIONS.flatMap(([, o]) => (o.flag === undefined ? [] : [o.flag])).sort();
  t.same(Object.keys(serveCommandOptions()).sort(), flags, 'the command line takes the declared flags');
  t.same(Object.keys(COMMANDS.serve.options).sort(), flags, 'edgedns serve is wired to them');
  t.equal(new Set(flags).size, flags.length, 'no flag is declared twice');
  t.equal(new Set(OPTIONS.map(([, o]) => o.env)).size, OPTIONS.length, 'no variable is declared twice');
});

t.test('defaults are what a bare machine needs, as before the declarations', async (t) => {
  t.same(resolveConfig({}, {}), {
    couchdb: undefined,
    dbPrefix: 'edgedns_',
    replicateFrom: undefined,
    dns: [{ host: '127.0.0.1', port: 5300 }],
    api: { host: '127.0.0.1', port: 8053 },
    apiTimeouts: { headersMs: 10_000, requestMs: 120_000 },
    dataDir: './data',
    zonesDir: undefined,
    nodeId: os.hostname(),
    nsid: os.hostname(),
    drainTimeoutMs: 5_000,
    configFile: undefined,
    chaosVersion: undefined,
    logLevel: 'info',
    tcpIdleTimeoutMs: 10_000,
    tcpMessageTimeoutMs: 2_000,
    tcpMaxConnections: 512,
    tcpMaxPerAddress: 16,
    rrl: { rate: 200, slip: 2, whitelist: ['127.0.0.0/8', '::1/128'] },
    geoipPaths: undefined,
    probeIntervalMs: 10_000,
    probeTimeoutMs: 2_000,
    acme: { ttl: 60, lifetimeMs: 3_600_000, dnsDomain: undefined, directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory', email: undefined, caFile: undefined, nsPort: 53 },
    pages: { http: { host: '127.0.0.1', port: 8080 }, https: { host: '127.0.0.1', port: 8443 }, previewDomain: 'preview.localhost', cacheBytes: 64 * 1024 * 1024, maxFiles: 20_000, immutableMaxAge: 31_536_000, skewGraceMs: 600_000 },
    workers: 1,
    heapGrowthPercent: 50,
    cluster: { watchdogIntervalMs: 3_000, stallMs: 10_000, heartbeatMs: 'auto' },
    secretsKeyFile: 'data/secrets.key',
  });
});

t.test('every option changes the configuration, by flag or by variable, and the flag wins', async (t) => {
  const base = resolveConfig({}, {});
  for (const [key, o] of OPTIONS) {
    const needed = o.onlyWith === undefined ? undefined : (SERVE_OPTIONS as Record<string, ServeOption>)[o.onlyWith];
    t.ok(o.onlyWith === undefined || needed !== undefined, `${key}.onlyWith names an option`);
    const withFlags = needed?.flag === undefined ? {} : { [needed.flag]: needed.example };
    const withEnv = needed === undefined ? {} : { [needed.env]: needed.example };
    const context = resolveConfig(withFlags, withEnv);
    const byEnv = resolveConfig(withFlags, { ...withEnv, [o.env]: o.example });
    t.notSame(byEnv, needed === undefined ? base : context, `${o.env}=${o.example} changes the configuration (resolveConfig uses it)`);
    if (o.flag === undefined) continue;
    const byFlag = resolveConfig({ ...withFlags, [o.flag]: o.example }, withEnv);
    t.same(byFlag, byEnv, `--${o.flag} ${o.example} means the same as ${o.env}=${o.example}`);
    if (typeof o.default === 'string') {
      t.same(resolveConfig({ ...withFlags, [o.flag]: o.default }, { ...withEnv, [o.env]: o.example }), base, `--${o.flag} wins over ${o.env}`);
    }
    t.same(resolveConfig(withFlags, { ...withEnv, [o.env]: '' }), needed === undefined ? base : context, `an empty ${o.env} counts as unset`);
  }
});

t.test('a bad value names where it came from; an undeclared flag is refused', async (t) => {
  t.throws(() => resolveConfig({ dns: 'nowhere' }, {}), new ConfigError('--dns "nowhere" is not HOST:PORT (use [::1]:5300 for IPv6)'));
  t.throws(() => resolveConfig({}, { EDGEDNS_DNS: 'nowhere' }), new ConfigError('EDGEDNS_DNS "nowhere" is not HOST:PORT (use [::1]:5300 for IPv6)'));
  t.throws(() => resolveConfig({}, { EDGEDNS_PAGES_MAX_FILES: '0' }), /EDGEDNS_PAGES_MAX_FILES "0" is not a whole number 1-1000000/);
  t.throws(() => resolveConfig({ 'log-level': 'loud' }, {}), /--log-level "loud" is not one of trace, debug/);
  t.throws(() => resolveConfig({ heartbeat: 'atuo' }, {}), new ConfigError('--heartbeat "atuo" is neither auto nor a number of seconds between 0 and 3600'));
  t.throws(() => resolveConfig({ 'no-such-flag': 'x' }, {}), /unknown option --no-such-flag/);
  t.throws(() => resolveConfig({ dns: true }, {}), /--dns needs a value/);
  t.throws(() => resolveConfig({ couchdb: 'http://127.0.0.1:5984', 'replicate-from': 'http://127.0.0.1:5985' }, {}), /--replicate-from is for the embedded store/);
  t.throws(() => resolveConfig({ 'acme-staging': true, 'acme-directory': 'https://ca.example/dir' }, {}), /--acme-staging means Let's Encrypt's staging CA/);
  t.throws(() => resolveConfig({ 'acme-directory': 'ftp://x' }, {}), /--acme-directory "ftp:\/\/x" is not an ACME directory URL/);
});

t.test('a switch declared once is read from its flag or its variable', async (t) => {
  const declarations = {
    drain: { flag: 'drain', env: 'EDGEDNS_DRAIN', type: 'boolean', value: '', default: 'false', example: 'true', help: 'x', parse: onOff },
    label: { flag: 'label', env: 'EDGEDNS_LABEL', value: 'TEXT', example: 'a', help: 'y', parse: text },
  } satisfies Record<string, ServeOption>;
  t.same(readOptions(declarations, {}, {}), { drain: false, label: undefined });
  t.same(readOptions(declarations, { drain: true }, {}), { drain: true, label: undefined });
  t.same(readOptions(declarations, {}, { EDGEDNS_DRAIN: 'yes', EDGEDNS_LABEL: 'b' }), { drain: true, label: 'b' });
  t.same(readOptions(declarations, { label: 'c' }, { EDGEDNS_LABEL: 'b' }), { drain: false, label: 'c' });
  t.throws(() => readOptions(declarations, {}, { EDGEDNS_DRAIN: 'maybe' }), /EDGEDNS_DRAIN "maybe" is not true or false/);
  t.equal(serveCommandOptions(Object.values(declarations)).drain?.type, 'boolean', 'the command line takes it as a switch');
});

/** The primary hands its workers their settings in these; edgedns sets them itself (src/node/workers/primary.ts). */
const INTERNAL = /^EDGEDNS_WORKER_/;

t.test('every EDGEDNS_ variable in src/ is a declared serve option or documented in a command\'s --help', async (t) => {
  const declared = new Set(OPTIONS.map(([, o]) => o.env));
  const helps = Object.values(COMMANDS).map((c) => c.help).join('\n');
  const files = (await readdir('src', { recursive: true })).filter((f) => f.endsWith('.ts'));
  const found = new Map<string, string>();
  for (const file of files) {
    for (const m of (await readFile(path.join('src', file), 'utf8')).matchAll(/EDGEDNS_[A-Z0-9_]*[A-Z0-9]/g)) found.set(m[0], file);
  }
  t.ok(found.size > declared.size, 'the scan finds the variables');
  for (const [name, file] of found) {
    if (INTERNAL.test(name)) continue;
    t.ok(declared.has(name) || helps.includes(name), `${name} (in src/${file}) is declared in src/node/serve-options.ts or named in a command's help`);
  }
});

t.test('--dns takes several addresses, IPv4 and IPv6, comma-separated or repeated', async (t) => {
  t.same(resolveConfig({ dns: '127.0.0.1:5300,[::1]:5300' }, {}).dns, [{ host: '127.0.0.1', port: 5300 }, { host: '::1', port: 5300 }]);
  t.same(resolveConfig({}, { EDGEDNS_DNS: '0.0.0.0:53, [::]:53' }).dns, [{ host: '0.0.0.0', port: 53 }, { host: '::', port: 53 }]);
  const repeated = parseCommandLine('serve', ['--dns', '127.0.0.1:53', '--dns', '[::1]:53'], COMMANDS.serve.options);
  t.same(resolveConfig(repeated.flags, {}).dns, [{ host: '127.0.0.1', port: 53 }, { host: '::1', port: 53 }], 'the flag given twice means both');
  t.throws(() => resolveConfig({ dns: '127.0.0.1:53,127.0.0.1:53' }, {}), new ConfigError('--dns names 127.0.0.1:53 twice'));
  t.throws(() => resolveConfig({ dns: '127.0.0.1:53,' }, {}), /--dns "127.0.0.1:53," has an empty address/);
  t.throws(() => resolveConfig({ dns: '127.0.0.1:53,[::1]' }, {}), /--dns "\[::1\]" is not HOST:PORT/);
});

t.test('--nsid: the node id unless given; none sends none; only printable text', async (t) => {
  t.equal(resolveConfig({ 'node-id': 'ams-1' }, {}).nsid, 'ams-1');
  t.equal(resolveConfig({ 'node-id': 'ams-1', nsid: 'ns1.example.net' }, {}).nsid, 'ns1.example.net');
  t.equal(resolveConfig({ nsid: 'none' }, {}).nsid, undefined);
  t.throws(() => resolveConfig({ nsid: 'a\tb' }, {}), /--nsid "a\tb" must be 1-128 printable ASCII characters/);
  t.throws(() => resolveConfig({ nsid: 'x'.repeat(129) }, {}), /must be 1-128 printable ASCII characters/);
});

t.test('--config: a file of EDGEDNS_ lines under the flags and variables; a name it cannot set is refused', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'edgedns.conf');
  await writeFile(file, '# comment\n\nEDGEDNS_LOG_LEVEL=debug\nEDGEDNS_NODE_ID="from-file"\nexport EDGEDNS_DNS=127.0.0.1:5353\n');
  const fromFile = resolveConfig({ config: file }, {});
  t.equal(fromFile.logLevel, 'debug');
  t.equal(fromFile.nodeId, 'from-file', 'quotes are taken off');
  t.same(fromFile.dns, [{ host: '127.0.0.1', port: 5353 }]);
  t.equal(fromFile.configFile, file);
  t.equal(resolveConfig({ config: file }, { EDGEDNS_LOG_LEVEL: 'warn' }).logLevel, 'warn', 'a variable wins over the file');
  t.equal(resolveConfig({ config: file, 'log-level': 'error' }, { EDGEDNS_LOG_LEVEL: 'warn' }).logLevel, 'error', 'a flag wins over both');
  t.equal(resolveConfig({ config: file }, { EDGEDNS_LOG_LEVEL: '' }).logLevel, 'debug', 'an empty variable does not hide the file');
  await writeFile(file, 'EDGEDNS_LOG_LEVL=debug\n');
  t.throws(() => resolveConfig({ config: file }, {}), new ConfigError(`--config ${file} line 1: EDGEDNS_LOG_LEVL is not an edgedns serve variable`));
  await writeFile(file, 'log-level debug\n');
  t.throws(() => resolveConfig({ config: file }, {}), new ConfigError(`--config ${file} line 1: not NAME=value`));
  t.throws(() => resolveConfig({ config: path.join(dir, 'missing.conf') }, {}), /--config .*missing\.conf: ENOENT/);
  t.equal(resolveConfig({ config: 'deploy/systemd/edgedns.conf' }, {}).dataDir, '/var/lib/edgedns', 'the example shipped with the systemd unit reads');
});
