// How edgedns is run as a service: deploy/compose.yml (three CouchDB 3 and three nodes, meshed), checked by
// `docker-compose config`; deploy/systemd/edgedns.service, checked by `systemd-analyze verify` and its offline
// security score; the Dockerfile, read as text (no Docker engine here to build it) and its settings resolved as the
// node would. None of these starts a container or a unit.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../src/node/config.js';
import { CLI } from '../helpers/spawn-edgedns.js';
import { requireTool } from '../helpers/tools.js';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: (Port | string)[];
  volumes?: (Volume | string)[];
  command?: string[];
}

interface Port {
  target: number;
  published: number | string;
  protocol: string;
  host_ip?: string;
}

interface Volume {
  source: string;
  target: string;
}

/** Compose v1 prints ports in the short form ("127.0.0.1:5301:53/udp"), v2 in the long one: read both. */
function port(p: Port | string): Port {
  if (typeof p !== 'string') return { ...p, protocol: p.protocol ?? 'tcp' };
  const m = /^(?:([\d.]+):)?(\d+):(\d+)(?:\/(udp|tcp))?$/.exec(p);
  if (!m) throw new Error(`unreadable port "${p}"`);
  return { host_ip: m[1], published: m[2], target: Number(m[3]), protocol: m[4] ?? 'tcp' };
}

function volume(v: Volume | string): Volume {
  if (typeof v !== 'string') return v;
  const [source, target] = v.split(':');
  return { source, target };
}

/** `docker-compose config` as data: its YAML read by the python3-yaml that docker-compose itself depends on. */
function composeConfig(file: string): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  const config = spawnSync(requireTool('docker-compose'), ['-f', file, 'config'], { encoding: 'utf8', timeout: 30_000 });
  if (config.status !== 0) throw new Error(`docker-compose -f ${file} config failed:\n${config.stdout}${config.stderr}`);
  const json = spawnSync('python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: config.stdout, encoding: 'utf8', timeout: 30_000 });
  if (json.status !== 0) throw new Error(`python3 could not read docker-compose's output:\n${json.stderr}`);
  return JSON.parse(json.stdout) as ReturnType<typeof composeConfig>;
}

t.test('deploy/compose.yml: three CouchDB 3, three nodes each on its own, meshed pairwise', async (t) => {
  t.notOk(existsSync('docker-compose.yml'), 'the compose file lives in deploy/, not at the top');
  const { services, volumes } = composeConfig('deploy/compose.yml');
  const published = new Set<string>();
  for (const n of ['a', 'b', 'c']) {
    const couch = services[`couch-${n}`];
    t.equal(couch?.image, 'couchdb:3', `couch-${n} is CouchDB 3`);
    const node = services[`edgedns-${n}`];
    t.equal(node?.build?.context, process.cwd(), `edgedns-${n} is built from the repository root`);
    t.equal(node?.environment?.EDGEDNS_COUCHDB, `http://couch-${n}:5984`, `edgedns-${n} uses its own CouchDB`);
    t.equal(node?.environment?.EDGEDNS_NODE_ID, n);
    t.equal(node?.depends_on?.[`couch-${n}`]?.condition, 'service_healthy', `edgedns-${n} waits for its CouchDB`);
    t.ok(node?.volumes?.map(volume).some((v) => v.source === `edgedns-${n}` && v.target === '/data'), `edgedns-${n} keeps /data in its volume`);
    const ports = (node?.ports ?? []).map(port);
    t.same(ports.map((p) => `${p.target}/${p.protocol}`).sort(), ['443/tcp', '53/tcp', '53/udp', '80/tcp', '8053/tcp'], `edgedns-${n} publishes DNS, the asset server and the API`);
    for (const p of ports) {
      t.equal(p.host_ip, '127.0.0.1', `edgedns-${n} publishes ${p.target}/${p.protocol} on loopback only`);
      published.add(`${p.published}/${p.protocol}`);
    }
  }
  t.equal(published.size, 15, 'no two nodes publish the same host port');
  t.equal(services['edgedns-a']?.environment?.EDGEDNS_ZONES, '/app/zones', 'node a imports the sample zones');
  t.equal(services['edgedns-b']?.environment?.EDGEDNS_ZONES, undefined, 'b and c import nothing: they replicate');
  const joins = (services['cluster-join']?.command ?? []).join(' ');
  const pairs = [...joins.matchAll(/cluster join http:\/\/admin:edgedns@couch-(\w):5984(?: --couchdb http:\/\/couch-(\w):5984)?/g)].map((m) => [m[2] ?? 'a', m[1]].sort().join('-'));
  t.same(pairs.sort(), ['a-b', 'a-c', 'b-c'], 'every pair of CouchDBs is joined once');
  t.same(Object.keys(volumes).sort(), ['couch-a', 'couch-b', 'couch-c', 'edgedns-a', 'edgedns-b', 'edgedns-c']);
});

t.test('deploy/systemd/edgedns.service: systemd-analyze verify passes, hardened, reload is SIGHUP', async (t) => {
  const unit = await readFile('deploy/systemd/edgedns.service', 'utf8');
  const settings = new Map<string, string[]>();
  for (const [, key, value] of unit.matchAll(/^(\w+)=(.*)$/gm)) settings.set(key, [...(settings.get(key) ?? []), value]);
  const one = (key: string): string | undefined => settings.get(key)?.[0];
  t.equal(one('AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
  t.equal(one('CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['ProtectHome', 'yes'], ['PrivateDevices', 'yes'], ['KillMode', 'mixed']]) {
    t.equal(one(key), value, `${key}=${value}`);
  }
  t.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID', 'systemctl reload sends SIGHUP');
  const execStart = one('ExecStart') ?? '';
  const configFile = /--config (\S+)/.exec(execStart)?.[1];
  t.equal(configFile, '/etc/edgedns/edgedns.conf');
  // The example configuration beside the unit reads, and its data directory is the one the unit lets it write.
  const config = resolveConfig({ config: 'deploy/systemd/edgedns.conf' }, {});
  t.equal(one('ReadWritePaths'), config.dataDir, 'ReadWritePaths is the data directory of edgedns.conf');
  t.equal(`/var/lib/${one('StateDirectory')}`, config.dataDir, 'StateDirectory creates it');
  t.same(config.dns.map((a) => a.port), [53, 53], 'DNS on port 53, IPv4 and IPv6');

  // verify checks that ExecStart exists: point it at this checkout's CLI.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-unit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'edgedns.service');
  await writeFile(file, unit.replace(/^ExecStart=\/usr\/bin\/edgedns /m, `ExecStart=${process.execPath} ${CLI} `));
  const analyze = requireTool('systemd-analyze');
  const verify = spawnSync(analyze, ['verify', file], { encoding: 'utf8', timeout: 30_000 });
  t.equal(verify.status, 0, `systemd-analyze verify:\n${verify.stdout}${verify.stderr}`);
  t.equal(`${verify.stdout}${verify.stderr}`.trim(), '', 'no warning either');
  const security = spawnSync(analyze, ['security', '--offline=yes', file], { encoding: 'utf8', timeout: 30_000 });
  const exposure = Number(/Overall exposure level for edgedns\.service: ([\d.]+)/.exec(security.stdout)?.[1]);
  t.ok(exposure <= 2.5, `systemd-analyze security: exposure ${exposure} (0 is the best, 10 none at all)`);
});

t.test('Dockerfile: Node 24 LTS, two stages, non-root, health check, asset server ports, no demo zones by default', async (t) => {
  const dockerfile = await readFile('Dockerfile', 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\w+))?$/gm)];
  t.same(stages.map((m) => m[1]), ['node:24-slim', 'node:24-slim'], 'built and run on Node 24 (slim)');
  const runtime = dockerfile.slice(stages[1].index);
  t.match(runtime, /^USER node$/m, 'the node runs as the unprivileged node user');
  t.match(runtime, /^HEALTHCHECK .*\n?.*\/healthz/m, 'a health check on /healthz');
  const exposed = /^EXPOSE (.*)$/m.exec(runtime)?.[1].split(/\s+/).sort();
  t.same(exposed, ['443/tcp', '53/tcp', '53/udp', '80/tcp', '8053/tcp']);
  t.match(runtime, /^COPY --from=build \/app\/dist \.\/dist$/m, 'only the compiled code comes from the build stage');
  // The image's settings, as the node reads them: its ENV lines, nothing else.
  const envBlock = /^ENV ((?:.*\\\n)*.*)$/m.exec(runtime)?.[1] ?? '';
  const env = Object.fromEntries([...envBlock.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  const config = resolveConfig({}, env);
  t.equal(config.zonesDir, undefined, 'no zones are imported unless EDGEDNS_ZONES asks');
  t.same(config.dns, [{ host: '0.0.0.0', port: 53 }]);
  t.same([config.pages.http, config.pages.https], [{ host: '0.0.0.0', port: 80 }, { host: '0.0.0.0', port: 443 }], 'the asset server listens on 80 and 443');
  t.same(config.api, { host: '0.0.0.0', port: 8053 });
  t.equal(config.dataDir, '/data');
  t.match(runtime, /^VOLUME \/data$/m);
});
