// `edgedns deploy` and `edgedns site` as an operator or a CI job runs them, against a real node. The commands run
// in-process (runCommand); runs of the real `edgedns` binary prove the wiring: a deploy that works (exit 0), a usage
// error (exit 2) and a refusal by the API (exit 1).

import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ApiRequestError } from '../../src/cli/api-client.js';
import { UsageError } from '../../src/cli/args.js';
import { runCommand } from '../helpers/cli.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { runCli } from '../helpers/spawn-edgedns.js';
import { get } from './pages-helpers.js';

const SITE = 'blog.example.test';
let node: TestNode;
let work: string;
t.before(async () => {
  node = await startTestNode({ nodeId: 'pages-cli' });
  work = await mkdtemp(path.join(os.tmpdir(), 'edgedns-pages-cli-'));
});
t.teardown(async () => {
  await node?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const where = (): string[] => ['--api', `127.0.0.1:${node.apiPort}`, '--data', node.dataDir];
const cli = (...args: string[]) => runCommand([...args, ...where()]);
const spawned = (...args: string[]) => runCli([...args, ...where()]);

t.test('deploy the example site: the page is served and the ids and URLs are printed', async (t) => {
  const result = await spawned('deploy', 'examples/pages-site', '--site', SITE, '--message', 'first');
  t.equal(result.code, 0, result.stderr);
  const id = /deployment ([0-9a-f]{12}) of blog\.example\.test/.exec(result.stdout)?.[1];
  t.ok(id, result.stdout);
  t.match(result.stdout, new RegExp(`preview: +http://${id}\\.preview\\.localhost:${node.httpPort}/`));
  t.match(result.stdout, new RegExp(`production: http://blog\\.example\\.test:${node.httpPort}/`));
  t.match(result.stdout, /uploaded 7 new files, \d+ bytes/);
  t.match(result.stdout, /^uploading 7\/7 files/m, 'plain progress lines when not on a terminal');
  const page = await get(node.httpPort, SITE, '/');
  t.equal(page.status, 200);
  t.match(page.body.toString(), /Hello from edgedns pages/);
  t.equal(page.headers['x-frame-options'], 'DENY', 'from the example _headers');
  t.equal((await get(node.httpPort, SITE, '/old-about')).headers.location, '/about', 'from the example _redirects');
});

t.test('a second deploy of the unchanged tree uploads 0 bytes', async (t) => {
  const result = await cli('deploy', 'examples/pages-site', '--site', SITE);
  t.error(result.error);
  t.match(result.stdout, /uploaded 0 new files, 0 bytes/);
});

t.test('ignored files are left out: defaults, .edgednsignore and --ignore', async (t) => {
  const dir = path.join(work, 'ignore');
  await mkdir(path.join(dir, '.git'), { recursive: true });
  await mkdir(path.join(dir, 'node_modules', 'x'), { recursive: true });
  await mkdir(path.join(dir, 'drafts'), { recursive: true });
  await writeFile(path.join(dir, 'index.html'), 'kept');
  await writeFile(path.join(dir, '.git', 'HEAD'), 'ref');
  await writeFile(path.join(dir, 'node_modules', 'x', 'a.js'), 'x');
  await writeFile(path.join(dir, 'drafts', 'secret.html'), 'draft');
  await writeFile(path.join(dir, 'app.js.map'), 'map');
  await writeFile(path.join(dir, 'notes.txt'), 'notes');
  await writeFile(path.join(dir, '.edgednsignore'), '# comment\ndrafts\n*.map\n');
  const result = await cli('deploy', dir, '--site', 'ignore.example.test', '--ignore', 'notes.txt');
  t.error(result.error);
  t.match(result.stdout, /^1 files/m);
  for (const p of ['/.git/HEAD', '/node_modules/x/a.js', '/drafts/secret', '/app.js.map', '/notes.txt', '/.edgednsignore']) {
    t.equal((await get(node.httpPort, 'ignore.example.test', p)).status, 404, p);
  }
});

t.test('--preview leaves production alone; site promote and rollback move it', async (t) => {
  const dir = path.join(work, 'v2');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'index.html'), 'version two');
  const preview = await cli('deploy', dir, '--site', SITE, '--preview');
  t.error(preview.error);
  const id = /deployment ([0-9a-f]{12})/.exec(preview.stdout)?.[1] as string;
  t.match(preview.stdout, /production unchanged/);
  t.match((await get(node.httpPort, SITE, '/')).body.toString(), /Hello from edgedns pages/);
  t.equal((await get(node.httpPort, `${id}.preview.localhost`, '/')).body.toString(), 'version two');

  const promote = await cli('site', 'promote', SITE, id);
  t.error(promote.error);
  t.match(promote.stdout, new RegExp(`${SITE} now serves ${id} \\(was [0-9a-f]{12}\\)`));
  t.equal((await get(node.httpPort, SITE, '/')).body.toString(), 'version two');

  const rollback = await cli('site', 'rollback', SITE);
  t.error(rollback.error);
  t.match((await get(node.httpPort, SITE, '/')).body.toString(), /Hello from edgedns pages/);

  const list = await cli('site', 'list');
  t.match(list.stdout, /SITE +PRODUCTION +DEPLOYS +URL/);
  t.match(list.stdout, new RegExp(`${SITE.replace(/\./g, '\\.')} +[0-9a-f]{12} +3 +http://`));
  const deployments = await cli('site', 'deployments', SITE);
  t.equal(deployments.stdout.trim().split('\n').length, 4, 'a header and three deployments');
  t.match(deployments.stdout, /first/, 'with their messages');
});

t.test('site gc reports what it freed', async (t) => {
  const result = await cli('site', 'gc', '--keep', '1', '--grace', '0');
  t.error(result.error);
  t.match(result.stdout, /^removed \d+ deployments \(kept \d+\) and \d+ blobs \(kept \d+\), freeing \d+ bytes/);
});

t.test('failures exit non-zero with a clear message', async (t) => {
  const nodir = await cli('deploy', path.join(work, 'does-not-exist'), '--site', SITE);
  t.type(nodir.error, UsageError);
  t.match(nodir.error?.message, /cannot read .*does-not-exist/);
  const nosite = await spawned('deploy', 'examples/pages-site');
  t.equal(nosite.code, 2);
  t.match(nosite.stderr, /--site HOST/);
  const badSite = await spawned('deploy', 'examples/pages-site', '--site', 'not a host');
  t.equal(badSite.code, 1);
  t.match(badSite.stderr, /is not a hostname \(HTTP 400\)/);
  const bad = path.join(work, 'bad-rules');
  await mkdir(bad, { recursive: true });
  await writeFile(path.join(bad, 'index.html'), 'x');
  await writeFile(path.join(bad, '_redirects'), '/a\n');
  const rules = await cli('deploy', bad, '--site', SITE);
  t.type(rules.error, ApiRequestError);
  t.match(rules.error?.message, /_redirects line 1/);
  const down = await runCommand(['deploy', 'examples/pages-site', '--site', SITE, '--api', '127.0.0.1:1', '--data', node.dataDir]);
  t.type(down.error, ApiRequestError);
  t.match(down.error?.message, /cannot reach the edgedns API/);
});
