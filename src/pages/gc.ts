// Garbage collection: keep each site's newest N deployments plus those its pointers name, delete the rest, then
// delete every blob no kept deployment references. Blobs younger than the grace period are kept whatever refers to
// them, so a deploy that is still uploading (its manifest not committed yet) never loses a file.
// Reads the store, not the in-memory index, so it decides on the newest data this node has.

import type { Logger } from 'pino';
import { ConflictError, NotFoundError, type Store } from '../store/store.js';
import type { BlobCache } from './blob-cache.js';
import type { PagesMetrics } from './metrics.js';
import { BLOB_PREFIX, DEPLOY_PREFIX, isBlobDoc, isDeploymentDoc, isSiteDoc, SITE_PREFIX, type DeploymentDoc } from './model.js';

export interface GcOptions {
  /** Deployments kept per site besides those pointed to (default 10). */
  keep: number;
  /** Blobs created less than this long ago are kept (default one hour). */
  graceMs: number;
  now?: number;
}

export interface GcReport {
  deploymentsRemoved: string[];
  deploymentsKept: number;
  blobsRemoved: number;
  bytesFreed: number;
  blobsKept: number;
}

export const DEFAULT_KEEP = 10;
export const DEFAULT_GRACE_MS = 60 * 60 * 1000;

export async function collectGarbage(store: Store, blobs: BlobCache, metrics: PagesMetrics, logger: Logger, options: GcOptions): Promise<GcReport> {
  const now = options.now ?? Date.now();
  const pinned = new Set<string>();
  for (const doc of await store.list(SITE_PREFIX)) {
    if (!isSiteDoc(doc)) continue;
    if (doc.production) pinned.add(doc.production);
    if (doc.previous) pinned.add(doc.previous);
  }

  const bySite = new Map<string, DeploymentDoc[]>();
  for (const doc of await store.list(DEPLOY_PREFIX)) {
    if (!isDeploymentDoc(doc)) continue;
    const list = bySite.get(doc.site) ?? [];
    list.push(doc);
    bySite.set(doc.site, list);
  }

  const referenced = new Set<string>();
  const report: GcReport = { deploymentsRemoved: [], deploymentsKept: 0, blobsRemoved: 0, bytesFreed: 0, blobsKept: 0 };
  for (const list of bySite.values()) {
    list.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    for (const [i, doc] of list.entries()) {
      if (i < options.keep || pinned.has(doc.id)) {
        report.deploymentsKept++;
        for (const entry of Object.values(doc.files)) referenced.add(entry.sha256);
        continue;
      }
      if (await removeQuietly(store, doc._id, doc._rev)) report.deploymentsRemoved.push(doc.id);
    }
  }

  for (const doc of await store.list(BLOB_PREFIX)) {
    if (!isBlobDoc(doc)) continue;
    const young = now - Date.parse(doc.createdAt) < options.graceMs;
    if (referenced.has(doc.sha256) || young) {
      report.blobsKept++;
      continue;
    }
    if (await removeQuietly(store, doc._id, doc._rev)) {
      blobs.delete(doc.sha256);
      report.blobsRemoved++;
      report.bytesFreed += doc.size;
    }
  }

  metrics.gcRuns.inc();
  metrics.gcBlobs.inc(report.blobsRemoved);
  metrics.gcBytes.inc(report.bytesFreed);
  metrics.gcDeployments.inc(report.deploymentsRemoved.length);
  logger.info({ ...report, deploymentsRemoved: report.deploymentsRemoved.length }, 'pages garbage collected');
  return report;
}

/** A document someone else changed or removed meanwhile is left alone: the next run looks again. */
async function removeQuietly(store: Store, id: string, rev: string | undefined): Promise<boolean> {
  if (rev === undefined) return false;
  try {
    await store.remove(id, rev);
    return true;
  } catch (err) {
    if (err instanceof ConflictError || err instanceof NotFoundError) return false;
    throw err;
  }
}
