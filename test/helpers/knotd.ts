// Run Knot DNS (knotd) as the reference authoritative server for tests: a throw-away configuration and state in a
// temporary directory, listening on 127.0.0.1 only, serving copies of the given zone files as they are (no
// journal, no DNSSEC, never writing a zone file back).

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './dig.js';
import { freePort } from './ports.js';
import { requireTool } from './tools.js';

export interface KnotZone {
  /** Apex, e.g. "example.com." */
  zone: string;
  /** Path of the zone file; knotd reads a copy of it. */
  zoneFile: string;
}

export interface KnotOptions {
  /** One zone: its apex ... */
  zone?: string;
  /** ... and its file. */
  zoneFile?: string;
  /** Several zones (may be combined with zone/zoneFile). */
  zones?: KnotZone[];
  /** Port for UDP and TCP on 127.0.0.1 (default: a free one). */
  port?: number;
  /** How long to wait for every zone to answer its SOA (default 15 s). */
  startTimeoutMs?: number;
  /** CHAOS id.server/hostname.bind identity (knotd's default is the host name). */
  identity?: string;
  /** CHAOS version.bind/version.server text (knotd's default is its version). */
  version?: string;
}

export interface KnotServer {
  port: number;
  /** The temporary directory holding knot.conf, the zone copies and knotd's state. */
  dir: string;
  /** What knotd wrote to stdout and stderr so far (bounded). */
  log(): string;
  stop(): Promise<void>;
}

const MAX_LOG_CHARS = 64 * 1024;
const POLL_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 5000;

/** knotd processes still running and their directories, killed and removed if the test process exits first. */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function killAll(): void {
  for (const [child, dir] of running) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  running.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAll);
  // 'exit' does not run when a signal ends the process (tap's timeout sends SIGTERM). Clean up, then raise the
  // signal again with this one-shot listener gone: other listeners (tap's signal-exit) hold back while ours is
  // registered, and the default action ends the process once no one listens.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

function quote(value: string): string {
  return JSON.stringify(value); // knot.conf accepts double-quoted strings with backslash escapes
}

function absoluteName(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function knotConf(dir: string, port: number, zones: { zone: string; file: string }[], options: KnotOptions): string {
  const lines = [
    'server:',
    `    rundir: ${quote(join(dir, 'run'))}`,
    `    listen: 127.0.0.1@${port}`,
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
  ];
  if (options.identity !== undefined) lines.push(`    identity: ${quote(options.identity)}`);
  if (options.version !== undefined) lines.push(`    version: ${quote(options.version)}`);
  lines.push(
    'database:',
    `    storage: ${quote(join(dir, 'db'))}`,
    'template:',
    '  - id: default',
    `    storage: ${quote(join(dir, 'zones'))}`,
    '    semantic-checks: on',
    '    zonefile-load: whole',
    '    zonefile-sync: -1',
    '    journal-content: none',
    '    dnssec-signing: off',
    'zone:',
  );
  for (const z of zones) lines.push(`  - domain: ${quote(z.zone)}`, `    file: ${quote(z.file)}`);
  lines.push('log:', '  - target: stderr', '    any: info', '');
  return lines.join('\n');
}

function zonesOf(options: KnotOptions): KnotZone[] {
  const zones = [...(options.zones ?? [])];
  if (options.zone !== undefined || options.zoneFile !== undefined) {
    if (options.zone === undefined || options.zoneFile === undefined) {
      throw new Error('startKnot: zone and zoneFile go together');
    }
    zones.unshift({ zone: options.zone, zoneFile: options.zoneFile });
  }
  if (zones.length === 0) throw new Error('startKnot: no zone given');
  return zones.map((z) => ({ zone: absoluteName(z.zone), zoneFile: z.zoneFile }));
}

/** Write the configuration for `zones` into a new temporary directory; returns the directory and config path. */
export function writeKnotConfig(options: KnotOptions & { port: number }): { dir: string; confPath: string } {
  const zones = zonesOf(options);
  const dir = mkdtempSync(join(tmpdir(), 'edgedns-knotd-'));
  for (const sub of ['run', 'db', 'zones']) mkdirSync(join(dir, sub));
  const copies = zones.map((z, i) => {
    const file = join(dir, 'zones', `${i}-${z.zone}zone`);
    copyFileSync(z.zoneFile, file);
    return { zone: z.zone, file };
  });
  const confPath = join(dir, 'knot.conf');
  writeFileSync(confPath, knotConf(dir, options.port, copies, options));
  return { dir, confPath };
}

/**
 * Check zone files the way knotd loads them (`knotc zone-check`, semantic checks on, warnings fatal): the Debian
 * knot 3.2 package has no kzonecheck. Resolves to knotc's output; rejects with it when the check fails.
 */
export async function checkZones(options: KnotOptions): Promise<string> {
  const knotc = requireTool('knotc');
  const { dir, confPath } = writeKnotConfig({ ...options, port: 53 });
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(knotc, ['-c', confPath, '--force', 'zone-check'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(output);
        else reject(new Error(`knotc zone-check failed (exit ${String(code)}):\n${output.trim()}`));
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const BIND_ATTEMPTS = 3;

/**
 * Start knotd in the foreground and wait until every zone answers its SOA with AA. Without an explicit port, a port
 * taken between freePort() and knotd's bind is retried with another one.
 */
export async function startKnot(options: KnotOptions): Promise<KnotServer> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startKnotOn(options, port);
    } catch (err) {
      const bindFailed = err instanceof Error && /cannot bind address/.test(err.message);
      if (!bindFailed || options.port !== undefined || attempt >= BIND_ATTEMPTS) throw err;
    }
  }
}

async function startKnotOn(options: KnotOptions, port: number): Promise<KnotServer> {
  const knotd = requireTool('knotd');
  const zones = zonesOf(options);
  const { dir, confPath } = writeKnotConfig({ ...options, port });
  installExitHook();

  let log = '';
  const append = (chunk: Buffer): void => {
    if (log.length < MAX_LOG_CHARS) log += chunk.toString('utf8');
  };
  const child = spawn(knotd, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(child, dir);
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
      resolve();
    });
    child.on('error', (err) => {
      exited = `spawn error: ${err.message}`;
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exitedPromise;
      clearTimeout(timer);
    }
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  const pending = new Set(zones.map((z) => z.zone));
  let lastProblem = '';
  while (pending.size > 0) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`knotd exited during start (${exited}); its output:\n${log.trim()}`);
    }
    const loadFailure = /\[([^\]]+)\] (?:zone event 'load' failed|zone loader, failed)/.exec(log);
    if (loadFailure !== null) {
      const output = log;
      await stop();
      throw new Error(`knotd could not load zone ${loadFailure[1]}; its output:\n${output.trim()}`);
    }
    if (Date.now() > deadline) {
      const output = log;
      await stop();
      throw new Error(
        `knotd did not answer SOA for ${[...pending].join(', ')} on 127.0.0.1@${port} within ` +
          `${options.startTimeoutMs ?? 15_000} ms (last: ${lastProblem}); its output:\n${output.trim()}`,
      );
    }
    for (const zone of [...pending]) {
      try {
        const reply = await dig(port, zone, 'SOA', { timeoutSeconds: 1 });
        if (reply.rcode === 'NOERROR' && reply.flags.includes('aa') && reply.answer.some((rr) => rr.type === 'SOA')) {
          pending.delete(zone);
        } else {
          lastProblem = `${zone} SOA: ${reply.rcode} flags=${reply.flags.join(' ')}`;
        }
      } catch (err) {
        lastProblem = err instanceof Error ? err.message.split('\n').slice(-1)[0] : String(err);
      }
    }
    if (pending.size > 0) await sleep(POLL_INTERVAL_MS);
  }

  return { port, dir, log: () => log, stop };
}
