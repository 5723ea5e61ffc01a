// The bench data: one zone served identically by every server, and dnsperf query files for each mix.

import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const BENCH_ZONE = 'bench.test.';
export const HOSTS = 1000;

export function writeBenchZone(dir: string): string {
  const lines = [
    `$ORIGIN ${BENCH_ZONE}`,
    '$TTL 300',
    '@ IN SOA ns1 hostmaster 1 7200 900 1209600 300',
    '@ IN NS ns1',
    '@ IN NS ns2',
    'ns1 IN A 192.0.2.1',
    'ns2 IN A 192.0.2.2',
    '@ IN A 192.0.2.10',
    'www IN CNAME @',
  ];
  for (let i = 1; i <= HOSTS; i++) {
    lines.push(`host${i} IN A 192.0.2.${(i % 250) + 1}`, `host${i} IN AAAA 2001:db8::${i.toString(16)}`);
  }
  const file = path.join(dir, 'bench.test.zone');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** A small deterministic PRNG so every run sends the same queries. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Static names: A and AAAA of existing hosts. With `nxShare`, that share of names are random and missing. */
export function writeQueries(dir: string, name: string, count: number, nxShare: number): string {
  const random = prng(42);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    if (random() < nxShare) lines.push(`nx${Math.floor(random() * 1e9).toString(36)}.${BENCH_ZONE} A`);
    else lines.push(`host${1 + Math.floor(random() * HOSTS)}.${BENCH_ZONE} ${random() < 0.7 ? 'A' : 'AAAA'}`);
  }
  const file = path.join(dir, `${name}.txt`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
