// Requests per second for one small cached file: edgedns's asset server against nginx serving the same bytes on
// loopback, in the same run, measured with wrk (Debian packages `wrk` and `nginx-light`), and the same file over
// edgedns's HTTPS listener (keep-alive, TLS 1.3, a P-256 certificate imported for `localhost`: wrk takes the TLS
// name from the URL). Prints the ratios and writes bench/results/pages.md.
//   npm run bench:pages            (BENCH_SECONDS=10 BENCH_CONNECTIONS=64 by default)

import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { resolveConfig } from '../src/node/config.js';
import { startNode } from '../src/node/node.js';
import { pinned } from './cpu.js';
import { freePort } from '../test/helpers/ports.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SITE = 'bench.example.test';
const BODY = Buffer.from('<!doctype html><title>bench</title><p>' + 'x'.repeat(1000) + '</p>\n');

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited ${code}: ${out}`));
    });
  });
}

async function wrk(port: number, host: string, urlPath: string, scheme: 'http' | 'https' = 'http'): Promise<{ rps: number; latency: string }> {
  const url = scheme === 'https' ? `https://${host}:${port}${urlPath}` : `http://127.0.0.1:${port}${urlPath}`;
  const [command, args] = pinned('client', 'wrk', ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '-H', `Host: ${host}`, url]);
  const out = await run(command, args, (SECONDS + 30) * 1000);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  const latency = /Latency\s+(\S+)/.exec(out)?.[1] ?? '?';
  if (!rps) throw new Error(`no Requests/sec in wrk output:\n${out}`);
  if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  return { rps: Number(rps), latency };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-bench-pages-'));
  const httpPort = await freePort();
  const config = resolveConfig({ dns: `127.0.0.1:${await freePort()}`, api: '127.0.0.1:0', http: `127.0.0.1:${httpPort}`, https: '127.0.0.1:0', data: path.join(dir, 'data'), 'node-id': 'bench' }, {});
  const node = await startNode(config, pino({ level: 'warn' }));
  let nginx: ReturnType<typeof spawn> | undefined;
  try {
    // Deploy one file through the real protocol.
    const key = (await readFile(path.join(dir, 'data', 'admin.key'), 'utf8')).trim();
    const hash = createHash('sha256').update(BODY).digest('hex');
    const api = `http://127.0.0.1:${node.api.port}`;
    const headers = { authorization: `Bearer ${key}` };
    await fetch(`${api}/v1/blobs/${hash}`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: new Uint8Array(BODY) });
    const commit = await fetch(`${api}/v1/sites/${SITE}/deployments`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ files: { 'index.html': { sha256: hash, size: BODY.length } } }),
    });
    if (commit.status !== 201) throw new Error(`deploy failed: ${await commit.text()}`);
    // The same file as site `localhost` over HTTPS, with a certificate brought in (edgedns cert import).
    const tlsCommit = await fetch(`${api}/v1/sites/localhost/deployments`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ files: { 'index.html': { sha256: hash, size: BODY.length } } }),
    });
    if (tlsCommit.status !== 201) throw new Error(`deploy failed: ${await tlsCommit.text()}`);
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const imported = await fetch(`${api}/v1/certs/localhost`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') }),
    });
    if (imported.status !== 201) throw new Error(`certificate import failed: ${await imported.text()}`);
    const httpsPort = node.pages.https?.port as number;

    // nginx with the same file, no logging, one worker (edgedns is one process too).
    const root = path.join(dir, 'www');
    await mkdir(root);
    // nginx workers run as an unprivileged user when started by root; mkdtemp made the directory 0700.
    await chmod(dir, 0o755);
    await writeFile(path.join(root, 'index.html'), BODY);
    const nginxPort = await freePort();
    const conf = path.join(dir, 'nginx.conf');
    await writeFile(
      conf,
      `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server { listen 127.0.0.1:${nginxPort}; root ${root}; location / { default_type text/html; etag on; } } }
`,
    );
    // Neither server is pinned (edgedns runs in this process), so both compete with wrk the same way.
    nginx = spawn('/usr/sbin/nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const ok = await fetch(`http://127.0.0.1:${nginxPort}/`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    // A warm-up fills the blob cache, then each server is measured once.
    await wrk(httpPort, SITE, '/').catch(() => undefined);
    await wrk(httpsPort, 'localhost', '/', 'https').catch(() => undefined);
    // HTTP and HTTPS alternate, best of two each: on a shared machine the load moves between runs.
    const best = (a: { rps: number; latency: string }, b: { rps: number; latency: string }) => (a.rps >= b.rps ? a : b);
    const edge1 = await wrk(httpPort, SITE, '/');
    const tls1 = await wrk(httpsPort, 'localhost', '/', 'https');
    const edge = best(edge1, await wrk(httpPort, SITE, '/'));
    const tls = best(tls1, await wrk(httpsPort, 'localhost', '/', 'https'));
    const reference = await wrk(nginxPort, 'localhost', '/index.html');
    const ratio = edge.rps / reference.rps;
    const report = `# Pages: one cached ${BODY.length}-byte file, wrk -t2 -c${CONNECTIONS} -d${SECONDS}s on loopback

| server | requests/s | mean latency |
|---|---|---|
| edgedns asset server (best of 2) | ${edge.rps.toFixed(0)} | ${edge.latency} |
| edgedns asset server, HTTPS: HTTP/1.1 keep-alive over TLS 1.3 (best of 2) | ${tls.rps.toFixed(0)} | ${tls.latency} |
| nginx ${'(1 worker, sendfile)'} | ${reference.rps.toFixed(0)} | ${reference.latency} |

edgedns / nginx = ${ratio.toFixed(2)}; edgedns HTTPS / HTTP = ${(tls.rps / edge.rps).toFixed(2)} (${os.cpus().length} CPUs; ${new Date().toISOString()})
`;
    process.stdout.write(report);
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/pages.md', report);
  } finally {
    nginx?.kill('SIGTERM');
    await node.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
