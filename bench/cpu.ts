// CPU placement and accounting: with two or more cores the server under test gets CPU 0 and the load generator
// CPU 1, so neither steals from the other; the server's CPU time comes from /proc.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const CORES = os.cpus().length;
export const PINNING = CORES >= 2 && hasTaskset();

export function pinned(role: 'server' | 'client', command: string, args: string[]): [string, string[]] {
  if (!PINNING) return [command, args];
  return ['taskset', ['-c', role === 'server' ? '0' : '1', command, ...args]];
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by a process and all its threads. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
