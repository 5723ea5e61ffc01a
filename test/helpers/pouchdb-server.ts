// A real CouchDB-protocol server for tests: pouchdb-server (npm devDependency) on a free loopback port in its own
// temporary directory. LevelDB on disk by default, so stop() and start() again keep the data, as a restarted
// CouchDB would; stop() alone is how a test makes "the database" unreachable. With EDGEDNS_TEST_COUCHDB=URL the
// tests that accept an external server use that one instead (see couchUrlForTest).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { freePort } from './ports.js';

const READY_TIMEOUT_MS = 20_000;

/** Found by Node's module resolution, so it works from test/ and from compiled benches alike. */
function binPath(): string | undefined {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve('pouchdb-server/package.json')), 'bin', 'pouchdb-server');
  } catch {
    return undefined;
  }
}
export interface PouchServer {
  url: string;
  port: number;
  /** Stops the process; the data directory stays, so start() brings the same databases back. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (after stop()). */
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>;
}

export function requirePouchServer(): string {
  const bin = binPath();
  if (bin === undefined || !existsSync(bin)) {
    throw new Error('pouchdb-server not found: it is a devDependency of edgedns, run "npm ci" (or "npm install -D pouchdb-server")');
  }
  return bin;
}

export async function startPouchServer(options: { inMemory?: boolean } = {}): Promise<PouchServer> {
  const bin = requirePouchServer();
  const dir = await mkdtemp(path.join(tmpdir(), 'edgedns-pouchdb-server-'));
  let port = await freePort();
  let url = `http://127.0.0.1:${port}/`;
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    const args = ['--host', '127.0.0.1', '--port', String(port), '--config', path.join(dir, 'config.json'), '--no-stdout-logs'];
    args.push(...(options.inMemory ? ['--in-memory'] : ['--dir', dir]));
    // cwd is the temp dir: pouchdb-server writes its log.txt there.
    // pouchdb-replicator rejects unhandled when a running replication's _replicator document is deleted (it tries
    // to record "completed" on the deleted document), which would kill the server on every `cluster leave`;
    // CouchDB has no such bug, so the harness only warns.
    const proc = spawn(process.execPath, ['--unhandled-rejections=warn', bin, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    proc.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`pouchdb-server exited with ${proc.exitCode}:\n${output}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    proc.kill('SIGKILL');
    throw new Error(`pouchdb-server did not answer on ${url} within ${READY_TIMEOUT_MS} ms:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  };

  // The free port found may be taken by another process before the server binds it: try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 5 || !/already in use/.test((err as Error).message)) throw err;
      output = '';
      port = await freePort();
      url = `http://127.0.0.1:${port}/`;
    }
  }
  return {
    url,
    port,
    stop,
    start,
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
