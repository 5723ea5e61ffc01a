// Per-query cost of the handler alone (no sockets): decode, look up, encode, count. For profiling with
//   node --cpu-prof dist-bench/bench/handler-profile.js
// and for comparing changes to the hot path; it prints nanoseconds per query for each mix, with response rate
// limiting off, then on (the default 200/s, slip 2, clients from 1,000 /24 networks none of which is whitelisted,
// so every answer goes through the bucket table).

import { pino } from 'pino';
import { Registry } from 'prom-client';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHandler } from '../src/dns/handler.js';
import { DnsMetrics } from '../src/dns/metrics.js';
import { ResponseRateLimiter } from '../src/dns/rrl.js';
import { Catalog } from '../src/zone/catalog.js';
import { buildZoneIndex } from '../src/zone/zone-index.js';
import { parseZoneFile } from '../src/zone/zonefile-parse.js';
import { textToWire } from '../src/proto/names.js';
import { writeBenchZone, writeQueries } from './data.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'edgedns-profile-'));
const zone = parseZoneFile(readFileSync(writeBenchZone(dir), 'utf8'), {});
const catalog = new Catalog();
catalog.set(zone.name, buildZoneIndex(zone));
const logger = pino({ level: 'silent' });
const handlers = {
  'RRL off': createHandler({ catalog, chaos: { nodeId: 'p' }, metrics: new DnsMetrics(new Registry()), logger }),
  'RRL on': createHandler({
    catalog,
    chaos: { nodeId: 'p' },
    metrics: new DnsMetrics(new Registry()),
    logger,
    rrl: new ResponseRateLimiter({ rate: 200, slip: 2, whitelist: [], registry: new Registry(), logger }),
  }),
};
const remotes = Array.from({ length: 1000 }, (_, i) => `198.${18 + (i >> 8)}.${i & 255}.7`);

function messages(file: string): Buffer[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line, i) => {
    const [name, type] = line.split(' ');
    const header = Buffer.from([i >> 8, i & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    return Buffer.concat([header, textToWire(name), Buffer.from([0, type === 'A' ? 1 : 28, 0, 1])]);
  });
}

for (const [label, handle] of Object.entries(handlers)) {
  for (const [mix, share] of [['static', 0], ['nxdomain10', 0.1], ['nxdomain100', 1]] as const) {
    const queries = messages(writeQueries(dir, mix, 10_000, share));
    for (let i = 0; i < 200_000; i++) handle(queries[i % queries.length], 'udp', remotes[i % remotes.length]); // warm-up
    const rounds = 1_000_000;
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    for (let i = 0; i < rounds; i++) handle(queries[i % queries.length], 'udp', remotes[i % remotes.length]);
    const ns = Number(process.hrtime.bigint() - started) / rounds;
    // CPU time as well: on a shared machine the wall clock also counts the time other processes had the core
    const used = process.cpuUsage(cpu);
    const cpuNs = ((used.user + used.system) * 1000) / rounds;
    process.stdout.write(`${label.padEnd(8)} ${mix.padEnd(12)} ${ns.toFixed(0)} ns/query (${Math.round(1e9 / ns)} per second of one core), ${cpuNs.toFixed(0)} ns CPU\n`);
  }
}
