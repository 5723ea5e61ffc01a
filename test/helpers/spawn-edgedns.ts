// Runs the real `edgedns` command (the compiled CLI, as `npm start` does) in a child process, for end-to-end
// tests that check what an operator sees: exit codes, the admin key file, answers over the wire, memory.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

export const CLI = path.resolve('dist/cli/main.js');

export interface SpawnedNode {
  process: ChildProcess;
  dnsPort: number;
  apiPort: number;
  /** The asset server (pages). */
  httpPort: number;
  dataDir: string;
  logs(): string;
  /** Resident set size of the server process, in bytes, from /proc. */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

export async function spawnEdgedns(options: { zonesDir?: string; nodeId?: string; extraArgs?: string[] } = {}): Promise<SpawnedNode> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-e2e-'));
  const dnsPort = await freePort();
  const apiPort = await freePort();
  const httpPort = await freePort();
  const args = [CLI, 'serve', '--dns', `127.0.0.1:${dnsPort}`, '--api', `127.0.0.1:${apiPort}`, '--http', `127.0.0.1:${httpPort}`, '--https', '127.0.0.1:0', '--data', dataDir, '--node-id', options.nodeId ?? 'e2e-node'];
  if (options.zonesDir) args.push('--zones', options.zonesDir);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

  const deadline = Date.now() + 20_000;
  while (!output.includes('edgedns node started')) {
    if (child.exitCode !== null) throw new Error(`edgedns exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`edgedns did not start within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    process: child,
    dnsPort,
    apiPort,
    httpPort,
    dataDir,
    logs: () => output,
    rss: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      if (!m) throw new Error('no VmRSS in /proc status');
      return Number(m[1]) * 1024;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `edgedns ARGS` to completion and returns its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`edgedns ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
