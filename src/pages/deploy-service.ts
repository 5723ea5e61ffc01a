// The deploy protocol's server side, apart from HTTP: which blobs are missing, storing one (hash verified as it
// arrives), committing an immutable manifest, and moving a site's production pointer in one document write.

import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ConflictError, type Store } from '../store/store.js';
import type { BlobCache } from './blob-cache.js';
import type { PagesMetrics } from './metrics.js';
import {
  BLOB_ATTACHMENT,
  blobComplete,
  blobId,
  deployId,
  DEFAULT_MAX_FILES,
  isSiteDoc,
  MAX_FILE_BYTES,
  SHA256_RE,
  siteId,
  type BlobDoc,
  type DeploymentDoc,
  type FileEntry,
  type SiteDoc,
} from './model.js';
import type { PagesIndex } from './pages-index.js';
import { checkEntry, contentTypeFor, normalizeDeployPath, PathError } from './paths.js';
import { parseHeaders, parseRedirects, RulesError, type HeaderRule, type RedirectRule } from './rules.js';
import { PagesError } from '../errors.js';

export { PagesError };

export interface DeployServiceOptions {
  store: Store;
  index: PagesIndex;
  blobs: BlobCache;
  metrics: PagesMetrics;
  logger: Logger;
  maxFiles?: number;
  maxFileBytes?: number;
}

export interface CommitRequest {
  site: string;
  files: Record<string, { sha256?: unknown; size?: unknown }>;
  message?: string;
  author: string;
  /** Move production to the new deployment (false: a preview only). */
  production: boolean;
}

/** How long an API write waits for this node's own index to serve it. */
const APPLY_WAIT_MS = 2000;
const MAX_POINTER_ATTEMPTS = 5;
const MISSING_BATCH = 500;

export class DeployService {
  readonly maxFiles: number;
  readonly maxFileBytes: number;

  constructor(private readonly options: DeployServiceOptions) {
    this.maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
    this.maxFileBytes = options.maxFileBytes ?? MAX_FILE_BYTES;
  }

  /** The hashes among `hashes` whose bytes the store does not have. */
  async missing(hashes: string[]): Promise<string[]> {
    const stored = await this.storedBlobs(hashes);
    return [...new Set(hashes)].filter((hash) => !stored.has(hash));
  }

  /** The real size in bytes of each blob among `hashes` that the store holds completely. */
  private async storedBlobs(hashes: string[]): Promise<Map<string, number>> {
    const unique = [...new Set(hashes)];
    for (const hash of unique) if (!SHA256_RE.test(hash)) throw new PagesError('bad_request', `"${hash}" is not a sha256 (64 lower-case hex digits)`, 'hashes');
    const stored = new Map<string, number>();
    for (let i = 0; i < unique.length; i += MISSING_BATCH) {
      const batch = unique.slice(i, i + MISSING_BATCH);
      const docs = await this.options.store.getMany(batch.map(blobId));
      docs.forEach((doc, j) => {
        if (!doc || !blobComplete(doc)) return;
        // The attachment's length is what the store holds; the document's size is what the uploading node counted.
        const length = doc._attachments?.[BLOB_ATTACHMENT]?.length;
        stored.set(batch[j] as string, typeof length === 'number' ? length : Number(doc.size));
      });
    }
    return stored;
  }

  /**
   * Reads a blob of `length` bytes (its declared Content-Length) into one buffer of that size, refusing a length over
   * the per-file limit before reading anything and anything whose sha256 is not `sha256`, then stores it unless the
   * store has it already. Returns whether it was written. One copy of the file is held, never the chunks as well;
   * the buffer is not zero-filled, so memory is only touched as bytes arrive.
   */
  async storeBlob(sha256: string, body: AsyncIterable<Buffer | string>, length: number): Promise<{ stored: boolean; size: number }> {
    const { metrics, store } = this.options;
    if (!Number.isSafeInteger(length) || length < 0) throw new PagesError('bad_request', `a file's length must be a whole number of bytes, not ${length}`, 'content-length');
    if (length > this.maxFileBytes) {
      metrics.uploads.labels('too_large').inc();
      throw new PagesError('payload_too_large', `the file is ${length} bytes, over the limit of ${this.maxFileBytes} bytes per file`, 'body');
    }
    const hash = createHash('sha256');
    const data = Buffer.allocUnsafe(length);
    let size = 0;
    for await (const chunk of body) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (size + bytes.length > length) throw new PagesError('bad_request', `the body is longer than the ${length} bytes it declared`, 'body');
      bytes.copy(data, size);
      size += bytes.length;
      hash.update(bytes);
    }
    if (size !== length) throw new PagesError('bad_request', `the body ended after ${size} of the ${length} bytes it declared; nothing was stored`, 'body');
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      metrics.uploads.labels('hash_mismatch').inc();
      throw new PagesError('hash_mismatch', `the body's sha256 is ${actual}, not ${sha256}; nothing was stored`, 'body');
    }
    for (let attempt = 0; attempt < MAX_POINTER_ATTEMPTS; attempt++) {
      const existing = await store.get(blobId(sha256));
      if (blobComplete(existing)) {
        metrics.uploads.labels('exists').inc();
        return { stored: false, size };
      }
      try {
        // Metadata first, then the bytes as its attachment: a half-written blob has no attachment and counts as missing.
        let rev = existing?._rev;
        if (!existing) {
          const doc: BlobDoc = { _id: blobId(sha256), type: 'blob', sha256, size, createdAt: new Date().toISOString() };
          rev = (await store.put(doc)).rev;
        }
        await store.putAttachment(blobId(sha256), BLOB_ATTACHMENT, rev, data, 'application/octet-stream');
        metrics.uploads.labels('stored').inc();
        metrics.uploadBytes.inc(size);
        return { stored: true, size };
      } catch (err) {
        // Two deploys uploading the same file at once: one wins, the other finds it complete on the next round.
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    throw new Error(`blob ${sha256} kept conflicting after ${MAX_POINTER_ATTEMPTS} attempts`);
  }

  /** Validates and writes a deployment; with `production`, moves the site's pointer to it. */
  async commit(request: CommitRequest): Promise<{ deployment: DeploymentDoc; site: SiteDoc; served: boolean }> {
    const { store, index, metrics, logger } = this.options;
    const entries = Object.entries(request.files ?? {});
    if (entries.length === 0) throw this.invalid(new PagesError('bad_request', 'a deployment needs at least one file', 'files'));
    if (entries.length > this.maxFiles) throw this.invalid(new PagesError('too_many_files', `${entries.length} files is over the limit of ${this.maxFiles} per deployment`, 'files'));

    const files: Record<string, FileEntry> = {};
    let headersBlob: string | undefined;
    let redirectsBlob: string | undefined;
    for (const [raw, value] of entries) {
      let path: string;
      let checked: { sha256: string; size: number };
      try {
        path = normalizeDeployPath(raw);
        checked = checkEntry(raw, typeof value === 'object' && value !== null ? value : {}, this.maxFileBytes);
      } catch (err) {
        if (err instanceof PathError) throw this.invalid(new PagesError('invalid_path', err.message, `files.${err.path}`));
        throw err;
      }
      if (files[path]) throw this.invalid(new PagesError('invalid_path', `path "${raw}" is listed twice`, `files.${raw}`));
      // _headers and _redirects configure the deployment and are not served (as on Cloudflare Pages).
      if (path === '/_headers') headersBlob = checked.sha256;
      else if (path === '/_redirects') redirectsBlob = checked.sha256;
      else files[path] = { ...checked, contentType: contentTypeFor(path) };
    }

    const wanted = [...new Set([...Object.values(files).map((f) => f.sha256), ...(headersBlob ? [headersBlob] : []), ...(redirectsBlob ? [redirectsBlob] : [])])];
    const stored = await this.storedBlobs(wanted);
    const missing = wanted.filter((hash) => !stored.has(hash));
    if (missing.length > 0) {
      metrics.deploys.labels('missing_blobs').inc();
      throw new PagesError('missing_blobs', `${missing.length} blob(s) are not uploaded yet; upload them and commit again`, 'files', missing);
    }
    // The manifest is the record of what a deployment publishes (its sizes are listed, summed, and read by whoever
    // checks a deployment), so a size the client made up would be a lie kept forever: each must be the blob's own.
    for (const [raw, value] of entries) {
      const { sha256, size } = value as { sha256: string; size: number };
      const real = stored.get(sha256);
      if (real !== size) throw this.invalid(new PagesError('size_mismatch', `path "${raw}" says ${size} bytes, but blob ${sha256} is ${real} bytes`, `files.${raw}`));
    }

    let headers: HeaderRule[] = [];
    let redirects: RedirectRule[] = [];
    try {
      if (headersBlob) headers = parseHeaders(await this.text(headersBlob));
      if (redirectsBlob) redirects = parseRedirects(await this.text(redirectsBlob));
    } catch (err) {
      if (err instanceof RulesError) throw this.invalid(new PagesError('invalid_rules', err.message, `files./${err.file}`));
      throw err;
    }

    const site = await this.ensureSite(request.site);
    const id = randomBytes(6).toString('hex');
    const deployment: DeploymentDoc = {
      _id: deployId(id),
      type: 'deployment',
      id,
      site: site.host,
      files,
      headers,
      redirects,
      createdAt: new Date().toISOString(),
      ...(request.message ? { message: request.message } : {}),
      author: request.author,
    };
    await store.put(deployment);
    metrics.deploys.labels('ok').inc();
    logger.info({ site: site.host, deployment: id, files: entries.length, production: request.production }, 'deployment committed');
    if (!request.production) {
      const served = await index.waitFor(() => index.deployment(id) !== undefined, APPLY_WAIT_MS);
      return { deployment, site, served };
    }
    const moved = await this.movePointer(site.host, id, 'deploy');
    return { deployment, site: moved.site, served: moved.served };
  }

  /** Moves `host`'s production pointer to deployment `id` (which must belong to the site): one document write. */
  async movePointer(host: string, id: string, kind: 'deploy' | 'promote' | 'rollback'): Promise<{ site: SiteDoc; served: boolean }> {
    const { store, index, metrics, logger } = this.options;
    const deployment = (await store.get(deployId(id))) as DeploymentDoc | undefined;
    if (!deployment || deployment.site !== host) throw new PagesError('deployment_not_found', `site ${host} has no deployment ${id}`, 'deployment');
    for (let attempt = 0; attempt < MAX_POINTER_ATTEMPTS; attempt++) {
      const current = await store.get(siteId(host));
      if (!current || !isSiteDoc(current)) throw new PagesError('site_not_found', `site ${host} does not exist`, 'site');
      const next: SiteDoc = {
        ...current,
        previous: current.production === id ? current.previous : current.production,
        production: id,
        updatedAt: new Date().toISOString(),
      };
      try {
        await store.put(next);
      } catch (err) {
        if (err instanceof ConflictError) continue; // someone else moved it at the same moment: read again and retry
        throw err;
      }
      metrics.promotions.labels(kind).inc();
      logger.info({ site: host, deployment: id, previous: next.previous, kind }, 'production pointer moved');
      const served = await index.waitFor(() => {
        const live = index.site(host);
        return live !== undefined && index.production(live)?.id === id;
      }, APPLY_WAIT_MS);
      return { site: next, served };
    }
    throw new PagesError('bad_request', `site ${host} kept changing; try again`, 'site');
  }

  /** Back to `id`, or to the deployment production pointed to before (or else the one before the current). */
  async rollback(host: string, id?: string): Promise<{ site: SiteDoc; served: boolean }> {
    const site = await this.getSite(host);
    let target = id;
    if (!target) {
      const list = this.options.index.deploymentsOf(host).map((d) => d.id);
      const current = site.production;
      target = site.previous && site.previous !== current ? site.previous : list.find((d, i) => i > list.indexOf(current ?? '') && d !== current);
      if (!target) throw new PagesError('deployment_not_found', `site ${host} has no earlier deployment to roll back to`, 'deployment');
    }
    return this.movePointer(host, target, 'rollback');
  }

  async getSite(host: string): Promise<SiteDoc> {
    const doc = await this.options.store.get(siteId(host));
    if (!doc || !isSiteDoc(doc)) throw new PagesError('site_not_found', `site ${host} does not exist`, 'site');
    return doc;
  }

  /** The site document, created (no production yet) when this is its first deployment. */
  async ensureSite(host: string, settings: { aliases?: string[]; previews?: boolean } = {}): Promise<SiteDoc> {
    const { store } = this.options;
    for (let attempt = 0; attempt < MAX_POINTER_ATTEMPTS; attempt++) {
      const existing = await store.get(siteId(host));
      if (existing && isSiteDoc(existing)) return existing;
      const now = new Date().toISOString();
      const doc: SiteDoc = { _id: siteId(host), type: 'site', host, aliases: settings.aliases ?? [], production: null, previous: null, previews: settings.previews ?? true, createdAt: now, updatedAt: now };
      try {
        const { rev } = await store.put(doc);
        return { ...doc, _rev: rev };
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    throw new Error(`site ${host} could not be created`);
  }

  private async text(sha256: string): Promise<string> {
    const data = await this.options.blobs.get(sha256);
    if (!data) throw new PagesError('missing_blobs', `blob ${sha256} vanished during the commit`, 'files', [sha256]);
    return data.toString('utf8');
  }

  private invalid(err: PagesError): PagesError {
    this.options.metrics.deploys.labels('invalid').inc();
    return err;
  }
}
