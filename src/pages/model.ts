// Pages documents in the store. Three kinds, each written by one actor and replicated like zones:
//   blob/<sha256>     the bytes of one file, as attachment "data"; written once, never changed (content-addressed)
//   deploy/<id>       an immutable deployment: path → {sha256, size, contentType}, plus parsed _headers/_redirects
//   site/<host>       a site: its hostnames and the production pointer; promote and rollback are one write of it

import type { StoredDoc } from '../store/store.js';
import type { HeaderRule, RedirectRule } from './rules.js';

export const BLOB_PREFIX = 'blob/';
export const DEPLOY_PREFIX = 'deploy/';
export const SITE_PREFIX = 'site/';
export const BLOB_ATTACHMENT = 'data';

/** Cloudflare Pages' limits: 25 MiB per file, 20,000 files per deployment. */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 20_000;

export interface FileEntry {
  sha256: string;
  size: number;
  contentType: string;
}

export interface BlobDoc extends StoredDoc {
  type: 'blob';
  sha256: string;
  size: number;
  createdAt: string;
}

export interface DeploymentDoc extends StoredDoc {
  type: 'deployment';
  id: string;
  site: string;
  /** Keys are absolute paths ("/index.html"), exactly as served; the only way a request reaches a blob. */
  files: Record<string, FileEntry>;
  headers: HeaderRule[];
  redirects: RedirectRule[];
  createdAt: string;
  /** Free text from the deployer, e.g. a git commit. */
  message?: string;
  /** The id of the API key that made it. */
  author: string;
}

export interface SiteDoc extends StoredDoc {
  type: 'site';
  host: string;
  /** Other hostnames served with the same production deployment. */
  aliases: string[];
  production: string | null;
  /** The deployment production pointed to before the last move, so `rollback` without an id has a target. */
  previous: string | null;
  /** Whether `<deployment-id>.<preview-domain>` serves this site's deployments. */
  previews: boolean;
  /** HTTPS settings (docs/https.md); absent: no redirect, no HSTS. */
  https?: SiteHttps;
  createdAt: string;
  updatedAt: string;
}

export interface SiteHttps {
  /** Plain HTTP requests get 308 to https:// once a certificate for the host is served. */
  redirect: boolean;
  /** Strict-Transport-Security max-age sent over HTTPS, seconds; 0: none. */
  hstsMaxAge: number;
}

export const blobId = (sha256: string): string => BLOB_PREFIX + sha256;
export const deployId = (id: string): string => DEPLOY_PREFIX + id;
export const siteId = (host: string): string => SITE_PREFIX + host;

export function isSiteDoc(doc: StoredDoc): doc is SiteDoc {
  return doc.type === 'site' && typeof doc.host === 'string' && doc._id === siteId(doc.host);
}

export function isDeploymentDoc(doc: StoredDoc): doc is DeploymentDoc {
  return doc.type === 'deployment' && typeof doc.id === 'string' && typeof doc.site === 'string' && typeof doc.files === 'object' && doc.files !== null;
}

export function isBlobDoc(doc: StoredDoc): doc is BlobDoc {
  return doc.type === 'blob' && typeof doc.sha256 === 'string';
}

/** A blob counts as stored only once its bytes are: the metadata document is written first. */
export function blobComplete(doc: StoredDoc | undefined): boolean {
  return doc !== undefined && doc._attachments?.[BLOB_ATTACHMENT] !== undefined;
}

export const SHA256_RE = /^[0-9a-f]{64}$/;

/** Lower case, no trailing dot, no port: how hostnames are compared everywhere in pages. */
export function normalizeHost(raw: string): string {
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[')) return host; // an IPv6 literal names no site
  const colon = host.indexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;

export function isValidHost(host: string): boolean {
  return host.length > 0 && host.length <= 253 && host.split('.').every((label) => LABEL.test(label));
}
