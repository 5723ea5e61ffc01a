// A hostile site folder (issue 12): `edgedns deploy` once followed env.txt -> /proc/self/environ and published the
// deploying shell's environment, API key included. Links are refused (and never followed out of the folder),
// dotfiles are left out and listed, and the node holds a manifest to the real size of every blob it names.

import { execFileSync } from 'node:child_process';
import { readFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { listSiteFiles, SiteFolderError } from '../../src/cli/site-files.js';
import { BlobCache } from '../../src/pages/blob-cache.js';
import { DeployService, PagesError } from '../../src/pages/deploy-service.js';
import { startTestNode } from '../helpers/node.js';
import { runCli } from '../helpers/spawn-edgedns.js';
import { get, pagesParts, sha256 } from './pages-helpers.js';

let work: string;
t.before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'edgedns-hostile-'));
});
t.teardown(() => rm(work, { recursive: true, force: true }));

async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(work, name);
  for (const [p, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p), content);
  }
  return dir;
}

t.test('the folder listing', async (t) => {
  await t.test('a link to a file outside is refused, naming the link and its target, with or without --follow-symlinks', async (t) => {
    const dir = await folder('outside', { 'index.html': 'hi' });
    await symlink('/etc/passwd', path.join(dir, 'passwd.txt'));
    for (const followSymlinks of [false, true]) {
      const err = await listSiteFiles(dir, { followSymlinks }).catch((e: unknown) => e);
      t.ok(err instanceof SiteFolderError, `followSymlinks ${followSymlinks}: refused`);
      t.match((err as Error).message, /^passwd\.txt is a symbolic link.*\/etc\/passwd/);
    }
  });

  await t.test('a relative link that climbs out of the folder is refused even with --follow-symlinks', async (t) => {
    const dir = await folder('climb/site', { 'index.html': 'hi' });
    await writeFile(path.join(work, 'climb', 'secret.txt'), 'secret');
    await symlink('../secret.txt', path.join(dir, 'innocent.txt'));
    const err = await listSiteFiles(dir, { followSymlinks: true }).catch((e: unknown) => e);
    t.match(err, { message: /^innocent\.txt is a symbolic link to \.\.\/secret\.txt \(.*climb\/secret\.txt\), outside / });
  });

  await t.test('with --follow-symlinks a link inside the folder is published under its own path', async (t) => {
    const dir = await folder('inside', { 'assets/logo.svg': '<svg/>', 'index.html': 'hi' });
    await symlink('assets/logo.svg', path.join(dir, 'logo.svg'));
    await symlink('assets', path.join(dir, 'static'));
    await symlink('..', path.join(dir, 'assets', 'up'));
    t.match(await listSiteFiles(dir).catch((e: unknown) => e), { message: /^(logo\.svg|static) is a symbolic link/ }, 'refused without the flag');
    const listing = await listSiteFiles(dir, { followSymlinks: true });
    t.same(
      listing.files.map((f) => f.path),
      ['assets/logo.svg', 'index.html', 'logo.svg', 'static/logo.svg'],
    );
    t.same(
      listing.skipped.map((s) => [s.path, s.reason]),
      [
        ['assets/up/', 'link loop'],
        ['static/up/', 'link loop'],
      ],
      'a link back up is left out, not walked forever',
    );
  });

  await t.test('dotfiles are left out and listed, except .well-known; --include-dotfiles keeps them', async (t) => {
    const dir = await folder('dots', { 'index.html': 'hi', '.env': 'SECRET=1', '.git/config': '[core]', 'sub/.npmrc': 'token', '.well-known/security.txt': 'Contact: x' });
    const listing = await listSiteFiles(dir);
    t.same(listing.files.map((f) => f.path), ['.well-known/security.txt', 'index.html']);
    t.same(listing.skipped, [
      { path: '.env', reason: 'dotfile' },
      { path: '.git/', reason: 'dotfile' },
      { path: 'sub/.npmrc', reason: 'dotfile' },
    ]);
    const all = await listSiteFiles(dir, { includeDotfiles: true });
    t.same(all.files.map((f) => f.path), ['.env', '.well-known/security.txt', 'index.html', 'sub/.npmrc'], '.git stays out as a default ignore');
  });

  await t.test('a FIFO is not read (it would block the deploy): it is listed as skipped', async (t) => {
    const dir = await folder('fifo', { 'index.html': 'hi' });
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const listing = await listSiteFiles(dir);
    t.same(listing.files.map((f) => f.path), ['index.html']);
    t.same(listing.skipped, [{ path: 'pipe', reason: 'not a regular file' }]);
  });
});

t.test('the CLI against a node', async (t) => {
  const node = await startTestNode({ nodeId: 'hostile' });
  t.teardown(() => node.close());
  const cli = (...args: string[]) => runCli([...args, '--api', `127.0.0.1:${node.apiPort}`, '--data', node.dataDir], { EDGEDNS_API_KEY: '' });

  await t.test('a folder with links to /etc/passwd and /proc/self/environ publishes neither, and says so', async (t) => {
    const dir = await folder('leak', { 'index.html': 'hi' });
    await symlink('/etc/passwd', path.join(dir, 'passwd.txt'));
    await symlink('/proc/self/environ', path.join(dir, 'env.txt'));
    for (const extra of [[], ['--follow-symlinks']]) {
      const result = await cli('deploy', dir, '--site', 'leak.example.test', ...extra);
      t.not(result.code, 0, `${extra.join(' ') || 'default'}: the deploy fails`);
      t.match(result.stderr, /not deploying .*leak: (env|passwd)\.txt is a symbolic link .*(\/proc\/self\/environ|\/etc\/passwd)/, result.stderr);
    }
    t.equal((await node.api('GET', '/v1/sites/leak.example.test')).status, 404, 'no site was created');
    const missing = await node.api('POST', '/v1/blobs/missing', { body: { hashes: [sha256(await readFile('/etc/passwd'))] } });
    t.equal(missing.body.missing.length, 1, '/etc/passwd was not uploaded');
    t.equal((await get(node.httpPort, 'leak.example.test', '/passwd.txt')).status, 404);
  });

  await t.test('dotfiles stay home unless asked for, and the deploy names them', async (t) => {
    const dir = await folder('dotsite', { 'index.html': 'hi', '.env': 'EDGEDNS_API_KEY=edg_x', '.git/HEAD': 'ref', '.well-known/security.txt': 'Contact: x' });
    const result = await cli('deploy', dir, '--site', 'dots.example.test');
    t.equal(result.code, 0, result.stderr);
    t.match(result.stdout, /^left out 2 dotfiles: \.env, \.git\/ \(--include-dotfiles publishes them\)$/m);
    t.equal((await get(node.httpPort, 'dots.example.test', '/.env')).status, 404);
    t.equal((await get(node.httpPort, 'dots.example.test', '/.well-known/security.txt')).status, 200);
    const opted = await cli('deploy', dir, '--site', 'dots.example.test', '--include-dotfiles');
    t.equal(opted.code, 0, opted.stderr);
    t.equal((await get(node.httpPort, 'dots.example.test', '/.env')).body.toString(), 'EDGEDNS_API_KEY=edg_x');
  });
});

t.test('the node holds a manifest to the real size of each blob', async (t) => {
  const { store, logger, metrics, index } = await pagesParts(t);
  const service = new DeployService({ store, index, metrics, logger, blobs: new BlobCache(store, 0, metrics) });
  const bytes = Buffer.from('twelve bytes');
  t.same(await service.storeBlob(sha256(bytes), Readable.from([bytes]), bytes.length), { stored: true, size: 12 });

  const lie = await service.commit({ site: 'size.example.test', files: { 'a.txt': { sha256: sha256(bytes), size: 1 } }, author: 'test', production: true }).catch((e: unknown) => e);
  t.ok(lie instanceof PagesError);
  t.match(lie, { code: 'size_mismatch', field: 'files.a.txt', message: /says 1 bytes, but blob [0-9a-f]{64} is 12 bytes/ });
  t.same(await store.list('site/'), [], 'nothing written');
  const truth = await service.commit({ site: 'size.example.test', files: { 'a.txt': { sha256: sha256(bytes), size: 12 } }, author: 'test', production: true });
  t.equal(truth.deployment.files['/a.txt']?.size, 12);

  const short = await service.storeBlob(sha256('x'), Readable.from([Buffer.from('x')]), 5).catch((e: unknown) => e);
  t.match(short, { code: 'bad_request', message: /ended after 1 of the 5 bytes/ }, 'a body shorter than its Content-Length is not stored');
  const big = await service.storeBlob(sha256('x'), Readable.from([]), 26 * 1024 * 1024).catch((e: unknown) => e);
  t.match(big, { code: 'payload_too_large' }, 'a declared length over 25 MiB is refused before reading');
});
