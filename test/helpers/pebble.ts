// Runs pebble, Let's Encrypt's test CA (Debian package pebble), on loopback with its DNS-01 validation pointed at
// an edgedns DNS port, and a throw-away TLS certificate for its directory that the ACME clients are told to trust.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { requireTool } from './tools.js';

export interface Pebble {
  directory: string;
  /** PEM of the certificate pebble's HTTPS listener uses: what clients must trust. */
  caFile: string;
  /** pebble's management API (https, trusting caFile): /roots/0 is the root its certificates chain to. */
  managementUrl: string;
  dir: string;
  logs(): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

export async function startPebble(dnsPort: number): Promise<Pebble> {
  const pebble = requireTool('pebble');
  const openssl = requireTool('openssl');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-pebble-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const port = await freePort();
  const management = await freePort();
  const config = path.join(dir, 'pebble.json');
  await writeFile(
    config,
    JSON.stringify({
      pebble: { listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${management}`, certificate: cert, privateKey: key, httpPort: 5002, tlsPort: 5001, ocspResponderURL: '', externalAccountBindingRequired: false },
    }),
  );
  // NOSLEEP: no random validation delay; NONCEREJECT=0: no deliberately rejected nonces (keeps runs short).
  const child: ChildProcess = spawn(pebble, ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/Listening on/.test(output)) {
    if (child.exitCode !== null) throw new Error(`pebble exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pebble did not start within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    directory: `https://localhost:${port}/dir`,
    caFile: cert,
    managementUrl: `https://localhost:${management}`,
    dir,
    logs: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a program to completion with a time limit; resolves with its exit code and combined output. */
export function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string }): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(file)} ${args.join(' ')} did not finish within ${options.timeoutMs} ms:\n${output}`));
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}
