// edgedns deploy DIR --site HOST: hash the directory, ask the node which blobs it lacks, upload only those (a few at
// a time, with progress), commit the manifest, and print the deployment id and its URLs. Exit status is non-zero on
// any failure, so CI can rely on it.

import { apiClient, ApiRequestError } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';
import { eachLimited, hashSiteFiles, listSiteFiles, readSiteFile, SiteFolderError, skippedList, type LocalFile, type SiteListing } from './site-files.js';

export const DEPLOY_HELP = `Usage: edgedns deploy DIR --site HOST [--preview] [--message TEXT]

Uploads the files of DIR that the node does not have yet (by sha256) and commits them as a new deployment of HOST.
Without --preview, HOST serves it as soon as the command returns; with --preview, only its preview URL does.
A symbolic link in DIR stops the deploy (it names the link); names starting with "." (.env, .git) are left out
and listed, except .well-known.

Options:
  --site HOST         the site's hostname (created on its first deploy)
  --preview           do not move production; print the preview URL
  --message TEXT      a label kept with the deployment (e.g. the git commit)
  --ignore PATTERNS   comma-separated names or paths to leave out, "*" within a name (also read from
                      DIR/.edgednsignore; .git, node_modules and .DS_Store are always left out)
  --follow-symlinks   follow symbolic links whose target is inside DIR (a link out of DIR still stops the deploy)
  --include-dotfiles  publish files and folders whose name starts with "." too
  --concurrency N     uploads at once (default 4)
  --api H:P           the node's API address (EDGEDNS_API, default 127.0.0.1:8053)
  --data DIR          where admin.key is (EDGEDNS_DATA); EDGEDNS_API_KEY overrides it
`;

export const DEPLOY_OPTIONS: CommandOptions = {
  ...API_OPTIONS,
  site: { type: 'string' },
  preview: { type: 'boolean' },
  message: { type: 'string' },
  ignore: { type: 'string' },
  'follow-symlinks': { type: 'boolean' },
  'include-dotfiles': { type: 'boolean' },
  concurrency: { type: 'string' },
};

const MAX_CONCURRENCY = 32;
const PROGRESS_INTERVAL_MS = 1000;
const TTY_INTERVAL_MS = 100;

interface DeployResult {
  id: string;
  site: string;
  url: string;
  previewUrl: string;
  production: boolean;
  files: number;
  served: boolean;
}

export async function deployCommand(args: ParsedArgs, out: NodeJS.WritableStream, err: NodeJS.WriteStream = process.stderr): Promise<void> {
  if (args.flags.help) {
    out.write(DEPLOY_HELP);
    return;
  }
  const dir = args.positionals[1];
  if (!dir) throw new UsageError(`deploy needs a DIR\n\n${DEPLOY_HELP}`);
  const site = args.flags.site;
  if (typeof site !== 'string' || site === '') throw new UsageError('deploy needs --site HOST');
  const concurrency = args.flags.concurrency === undefined ? 4 : Number(args.flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) throw new UsageError(`--concurrency must be 1-${MAX_CONCURRENCY}`);
  const ignores = typeof args.flags.ignore === 'string' ? args.flags.ignore.split(',') : [];
  const message = typeof args.flags.message === 'string' ? args.flags.message : undefined;
  const client = await apiClient(args.flags);

  let listing: SiteListing;
  try {
    listing = await listSiteFiles(dir, { ignores, followSymlinks: args.flags['follow-symlinks'] === true, includeDotfiles: args.flags['include-dotfiles'] === true });
  } catch (e) {
    if (e instanceof SiteFolderError) throw new UsageError(`not deploying ${dir}: ${e.message}`);
    throw new UsageError(`cannot read ${dir}: ${(e as Error).message}`);
  }
  const dotfiles = skippedList(listing.skipped, 'dotfile');
  if (dotfiles) out.write(`left out ${dotfiles.count} ${dotfiles.count === 1 ? 'dotfile' : 'dotfiles'}: ${dotfiles.list} (--include-dotfiles publishes them)\n`);
  const special = skippedList(listing.skipped, 'not a regular file');
  if (special) out.write(`left out ${special.count} ${special.count === 1 ? 'entry that is not a regular file' : 'entries that are not regular files'}: ${special.list}\n`);
  const loops = skippedList(listing.skipped, 'link loop');
  if (loops) out.write(`left out ${loops.count} linked ${loops.count === 1 ? 'folder that leads' : 'folders that lead'} back to a folder above: ${loops.list}\n`);
  if (listing.files.length === 0) throw new UsageError(`${dir} has no files to deploy`);
  const files = await hashSiteFiles(listing.files);
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  out.write(`${files.length} files, ${formatBytes(totalBytes)} in ${dir}\n`);

  const missingResponse = await client.request('POST', '/v1/blobs/missing', {
    body: JSON.stringify({ hashes: [...new Set(files.map((f) => f.sha256))] }),
    contentType: 'application/json',
  });
  const missing = new Set(((await missingResponse.json()) as { missing: string[] }).missing);
  // One upload per distinct blob, however many paths share it.
  const uploads: LocalFile[] = [];
  const queued = new Set<string>();
  for (const file of files) {
    if (missing.has(file.sha256) && !queued.has(file.sha256)) {
      queued.add(file.sha256);
      uploads.push(file);
    }
  }

  const progress = new Progress(uploads.length, uploads.reduce((n, f) => n + f.size, 0), err.isTTY === true ? err : undefined, out);
  await eachLimited(uploads, concurrency, async (file) => {
    const data = await readSiteFile(file);
    try {
      await client.request('PUT', `/v1/blobs/${file.sha256}`, { body: new Blob([data]), contentType: 'application/octet-stream' });
    } catch (e) {
      if (e instanceof ApiRequestError) throw new ApiRequestError(`uploading ${file.path}: ${e.message}`);
      throw e;
    }
    progress.done(file);
  });
  progress.finish();

  const manifest: Record<string, { sha256: string; size: number }> = {};
  for (const file of files) manifest[file.path] = { sha256: file.sha256, size: file.size };
  const response = await client.request('POST', `/v1/sites/${encodeURIComponent(site)}/deployments`, {
    body: JSON.stringify({ files: manifest, ...(message ? { message } : {}), preview: args.flags.preview === true }),
    contentType: 'application/json',
  });
  const result = (await response.json()) as DeployResult;
  out.write(`deployment ${result.id} of ${result.site}: ${result.files} files\n`);
  out.write(`preview:    ${result.previewUrl}\n`);
  if (result.production) out.write(`production: ${result.url}${result.served ? '' : ' (not yet served by this node: check its log)'}\n`);
  else out.write(`production unchanged (preview only); promote with: edgedns site promote ${result.site} ${result.id}\n`);
}

/** Upload progress: a redrawn line on a terminal (files, bytes, rate), a plain line at most once a second otherwise. */
class Progress {
  private files = 0;
  private bytes = 0;
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(
    private readonly totalFiles: number,
    private readonly totalBytes: number,
    private readonly tty: NodeJS.WriteStream | undefined,
    private readonly out: NodeJS.WritableStream,
  ) {}

  done(file: LocalFile): void {
    this.files++;
    this.bytes += file.size;
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? TTY_INTERVAL_MS : PROGRESS_INTERVAL_MS) && this.files < this.totalFiles) return;
    this.lastDraw = now;
    const line = this.line();
    if (this.tty) this.tty.write(`\r${line}\u001b[K`);
    else this.out.write(line + '\n');
  }

  finish(): void {
    if (this.tty && this.totalFiles > 0) this.tty.write('\n');
    this.out.write(`uploaded ${this.files} new files, ${this.bytes} bytes (${formatBytes(this.bytes)}); the node had the rest\n`);
  }

  private line(): string {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    const pct = this.totalBytes === 0 ? 100 : Math.floor((this.bytes / this.totalBytes) * 100);
    return `uploading ${this.files}/${this.totalFiles} files  ${formatBytes(this.bytes)}/${formatBytes(this.totalBytes)}  ${pct}%  ${formatBytes(this.bytes / seconds)}/s`;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
