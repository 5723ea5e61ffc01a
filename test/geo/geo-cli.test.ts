// The operator's commands for geo routing against a real node: edge add/set/list/rm, pool add/set/list/explain/rm,
// and route, with errors that name what is wrong. The commands run in-process (runCommand); four runs of the real
// `edgedns` binary prove the wiring around them: argv, exit codes 0 and 1, and the error on stderr.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ApiRequestError } from '../../src/cli/api-client.js';
import { runCommand } from '../helpers/cli.js';
import { dig } from '../helpers/dig.js';
import { startTestNode } from '../helpers/node.js';
import { runCli } from '../helpers/spawn-edgedns.js';
import { waitFor } from '../helpers/wait-for.js';
import { geoNodeOptions, HealthServer, writeTestDb } from './geo-helpers.js';

const ZONE = `$ORIGIN cli.test.
@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60
@ 3600 IN NS ns1
ns1 3600 IN A 192.0.2.53
www 30 IN POOL edges
`;

t.test('edge, pool and route commands', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-geocli-'));
  const health = await HealthServer.start();
  const node = await startTestNode(geoNodeOptions({ zone: ZONE, zoneName: 'cli.test', geoip: await writeTestDb(dir) }));
  t.teardown(async () => {
    await node.close();
    await health.down();
    await rm(dir, { recursive: true, force: true });
  });
  const env = { EDGEDNS_API: `127.0.0.1:${node.apiPort}`, EDGEDNS_DATA: node.dataDir, EDGEDNS_API_KEY: '' };
  const cli = (...args: string[]) => runCommand(args, env);

  for (const args of [['edge', '--help'], ['pool', '--help'], ['route', '--help']]) t.match((await cli(...args)).stdout, /Usage/, `${args[0]} --help`);

  // The real binary: a command that works exits 0, one the API refuses exits 1 with the reason on stderr.
  let spawned = await runCli(['edge', 'add', 'fra', '--ipv4', '198.51.100.1', '--ipv6', '2001:db8::1', '--lat', '50.11', '--lon', '8.68', '--check', health.url], env);
  t.equal(spawned.code, 0, spawned.stderr);
  t.match(spawned.stdout, /added edge fra/);
  let r = await cli('edge', 'add', 'nyc', '--ipv4', '198.51.100.2', '--lat', '40.71', '--lon', '-74.0', '--check', 'none');
  t.error(r.error, 'edge add nyc');
  spawned = await runCli(['edge', 'add', 'bad', '--ipv4', '300.1.1.1'], env);
  t.equal(spawned.code, 1);
  t.match(spawned.stderr, /^edgedns: .*"300.1.1.1" is not an IPv4 address/, 'a bad address is named');
  r = await cli('edge', 'add', 'fra', '--ipv4', '198.51.100.9');
  t.type(r.error, ApiRequestError);
  t.match(r.error?.message, /edge fra exists/, 'adding twice is refused');

  spawned = await runCli(['pool', 'add', 'edges', '--members', 'fra,nyc', '--ttl', '15', '--pins', 'country:US=nyc'], env);
  t.equal(spawned.code, 0, spawned.stderr);
  r = await cli('pool', 'add', 'ghost', '--members', 'nope');
  t.match(r.error?.message, /no edge named nope/);
  t.match((await cli('pool', 'list')).stdout, /edges: fra, nyc; count 1, ttl 15, fail-open yes, margin 20 % and 10 ms for 3 rounds; pins country:US=nyc/);
  t.equal((await cli('pool', 'set', 'edges', '--margin-percent', '15', '--margin-ms', '5', '--margin-rounds', '4')).error, undefined, 'the stabilization margin is set per pool');
  t.match((await cli('pool', 'list')).stdout, /margin 15 % and 5 ms for 4 rounds/);
  r = await cli('pool', 'set', 'edges', '--margin-rounds', '0');
  t.match(r.error?.message, /marginRounds must be an integer from 1 to 100/, 'a bad margin is named');

  // The pool is what makes node-a probe fra: until its first probe result after `pool add` (at once, but a probe
  // takes a moment on a busy machine), fra's latency is unknown, which ranks it as far (a 1000 ms penalty), and
  // London would be sent to nyc, whose check is none. An operator waits for the vote to show in `edge list`; so does
  // this test.
  const probed = await waitFor(async () => /^fra\s+active\s+up\s+1\/1\s+[\d.]+ms\s+[\d.]+ms/m.test((await cli('edge', 'list')).stdout), {
    what: "node-a's first probe of fra in `edge list` (1/1 votes, an RTT and a penalty)",
    timeoutMs: 5000,
  });
  t.comment(`waited ${probed.ms} ms for the first probe of fra`);
  const list = await cli('edge', 'list');
  t.match(list.stdout, /EDGE\s+STATE\s+HEALTH/);
  t.match(list.stdout, /fra\s+active\s+up/);
  t.match(list.stdout, /nyc\s+active\s+unchecked/);

  const london = await dig(node.dnsPort, 'www.cli.test', 'A', { subnet: '81.2.69.0/24' });
  t.same(london.answer.map((a) => a.data), ['198.51.100.1']);
  t.equal(london.answer[0]?.ttl, 15);
  const route = await runCli(['route', 'www.cli.test', '--client', '81.2.69.0/24'], env);
  t.equal(route.code, 0, route.stderr);
  t.match(route.stdout, /London GB/);
  t.match(route.stdout, /\* fra\s+up, \d+ km, geography [\d.]+ ms, \+ route [\d.]+ ms \(median of node-a [\d.]+\), = [\d.]+ ms/);
  t.match(route.stdout, /steering: nearest fra, fastest fra: nearest is also fastest \(margin 15 % and 5 ms\) → fra/);
  t.match(route.stdout, /answer \(TTL 15\): 198\.51\.100\.1/);
  t.match((await cli('route', 'www.cli.test', '--client', '8.8.8.0/24')).stdout, /pool edges, pin country:US/);

  r = await cli('edge', 'set', 'fra', '--state', 'draining');
  t.error(r.error, 'edge set fra --state draining');
  t.same((await dig(node.dnsPort, 'www.cli.test', 'A', { subnet: '81.2.69.0/24' })).answer.map((a) => a.data), ['198.51.100.2'], 'a draining edge gets no new clients');
  r = await cli('edge', 'set', 'fra', '--state', 'asleep');
  t.match(r.error?.message, /state must be one of active, draining, disabled/);

  r = await cli('edge', 'rm', 'fra');
  t.type(r.error, ApiRequestError);
  t.match(r.error?.message, /member of pool edges/, 'an edge in use cannot be removed');
  t.error((await cli('pool', 'set', 'edges', '--members', 'nyc', '--pins', '')).error, 'pool set edges');
  t.error((await cli('edge', 'rm', 'fra')).error, 'edge rm fra');
  t.match((await cli('pool', 'explain', 'edges', '--client', '81.2.69.160')).stdout, /"chosen": \[\s*"nyc"\s*\]/);
  t.error((await cli('pool', 'rm', 'edges')).error, 'pool rm edges');
  const none = await dig(node.dnsPort, 'www.cli.test', 'A');
  t.equal(none.answer.length, 0, 'a dynamic RRset whose pool is gone answers NODATA');
});
