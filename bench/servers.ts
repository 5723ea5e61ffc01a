// The servers a bench run compares, each started pinned to the server CPU and stopped afterwards.

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeKnotConfig } from '../test/helpers/knotd.js';
import { freePort } from '../test/helpers/ports.js';
import { pinned } from './cpu.js';

export interface BenchServer {
  name: string;
  port: number;
  pid: number;
  /** The server's process and its children (DNS workers), for CPU accounting. */
  pids(): number[];
  stop(): Promise<void>;
}

function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children.flatMap(withChildren)];
  } catch {
    return [pid];
  }
}

function soaQuery(zone: string): Buffer {
  const labels = zone.split('.').filter(Boolean);
  const name = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  return Buffer.concat([Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 6, 0, 1])]);
}

async function answers(port: number, zone: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(false);
    }, 300);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve((msg[3] & 0x0f) === 0 && msg.readUInt16BE(6) > 0);
    });
    socket.send(soaQuery(zone), port, '127.0.0.1');
  });
}

async function launch(name: string, port: number, zone: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}, pin = true): Promise<BenchServer> {
  const [cmd, cmdArgs] = pin ? pinned('server', command, args) : [command, args];
  const child: ChildProcess = spawn(cmd, cmdArgs, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  const deadline = Date.now() + 60_000;
  while (!(await answers(port, zone))) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    port,
    pid: child.pid as number,
    pids: () => withChildren(child.pid as number),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function startKnotd(zone: string, zoneFile: string): Promise<BenchServer> {
  const port = await freePort();
  const { confPath } = writeKnotConfig({ zone, zoneFile, port });
  return launch('knotd', port, zone, 'knotd', ['-c', confPath]);
}

export async function startNodeResponder(zone: string, zoneFile: string): Promise<BenchServer> {
  const port = await freePort();
  return launch('node-limit', port, zone, process.execPath, [path.resolve('dist-bench/bench/node-responder.js'), String(port), zoneFile]);
}

export async function startEdgedns(zone: string, zoneFiles: string[], workDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, pin = true): Promise<BenchServer> {
  const port = await freePort();
  const zonesDir = path.join(workDir, `zones-${port}`);
  mkdirSync(zonesDir, { recursive: true });
  for (const file of zoneFiles) copyFileSync(file, path.join(zonesDir, path.basename(file)));
  const args = [path.resolve('dist/cli/main.js'), 'serve', '--dns', `127.0.0.1:${port}`, '--api', `127.0.0.1:${await freePort()}`, '--http', '127.0.0.1:0', '--https', '127.0.0.1:0', '--data', path.join(workDir, `data-${port}`), '--zones', zonesDir, '--log-level', 'warn', ...extraArgs];
  return launch('edgedns', port, zone, process.execPath, args, env, pin);
}
