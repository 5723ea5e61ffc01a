// Sites and deployments held in memory, kept equal to the store by a full read at start and then its changes feed
// (the pattern of zone-sync.ts). Serving a request reads only this index and the blob cache. A deployment is
// immutable and a site's production pointer is one field of one document, so each change swaps in a whole new
// value: a request that picked its deployment keeps a consistent view even while a promotion lands.

import type { Logger } from 'pino';
import { RetryingFollower } from '../store/retrying-follower.js';
import { waitApplied } from '../store/wait-applied.js';
import type { Change, Store, StoredDoc } from '../store/store.js';
import { DEPLOY_PREFIX, SITE_PREFIX, isDeploymentDoc, isSiteDoc, type DeploymentDoc, type FileEntry, type SiteDoc } from './model.js';
import { compileHeaderRules, compileRedirects, type CompiledHeaderRule, type CompiledRedirect } from './rules.js';

export interface LiveDeployment {
  id: string;
  site: string;
  files: ReadonlyMap<string, FileEntry>;
  redirects: CompiledRedirect[];
  headers: CompiledHeaderRule[];
  createdAt: string;
  message?: string;
  author: string;
  bytes: number;
}

export class PagesIndex {
  private readonly sites = new Map<string, SiteDoc>();
  /** Every hostname (site host and aliases) → the site's host. */
  private readonly hosts = new Map<string, string>();
  private readonly deployments = new Map<string, LiveDeployment>();
  /**
   * Site host → the deployment served as production. Replication does not order documents, so a site's pointer may
   * arrive before the deployment it names: until that deployment is here the previous one keeps being served.
   */
  private readonly serving = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private follower: RetryingFollower | undefined;
  private stopped = false;
  /** Where the changes feed starts: the end of the full read at start, or "0" when that read failed. */
  private startSeq = '0';
  /** Set while the changes feed is failing; cleared by the next change that arrives. */
  feedError: string | undefined;
  loaded = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    try {
      const seq = await this.store.updateSeq();
      for (const doc of await this.store.list(SITE_PREFIX)) this.apply(doc);
      for (const doc of await this.store.list(DEPLOY_PREFIX)) this.apply(doc);
      this.startSeq = seq;
      this.loaded = true;
    } catch (err) {
      // CouchDB may be down when the node starts: DNS must still come up. Following from "0" fills the index once
      // the store is back (the feed's reconnect backoff retries it).
      this.logger.warn({ err: (err as Error).message }, 'cannot read sites from the store yet; following its changes instead');
    }
    this.follow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.follower?.stop();
  }

  /** The site serving `host` (its own name or an alias). */
  siteForHost(host: string): SiteDoc | undefined {
    const owner = this.hosts.get(host);
    return owner === undefined ? undefined : this.sites.get(owner);
  }

  site(host: string): SiteDoc | undefined {
    return this.sites.get(host);
  }

  allSites(): SiteDoc[] {
    return [...this.sites.values()].sort((a, b) => a.host.localeCompare(b.host));
  }

  /** The deployment a site's visitors get now. */
  production(site: SiteDoc): LiveDeployment | undefined {
    const id = this.serving.get(site.host);
    return id === undefined ? undefined : this.deployments.get(id);
  }

  deployment(id: string): LiveDeployment | undefined {
    return this.deployments.get(id);
  }

  /** A site's deployments, newest first. */
  deploymentsOf(site: string): LiveDeployment[] {
    return [...this.deployments.values()].filter((d) => d.site === site).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  allDeployments(): LiveDeployment[] {
    return [...this.deployments.values()];
  }

  get siteCount(): number {
    return this.sites.size;
  }

  get deploymentCount(): number {
    return this.deployments.size;
  }

  /** Calls back after each change has been applied (API writes wait on it so "done" means "served here"). */
  onApplied(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves true once `check` holds, false after `ms`. */
  waitFor(check: () => boolean, ms: number): Promise<boolean> {
    return waitApplied((listener) => this.onApplied(listener), check, ms);
  }

  private follow(): void {
    if (this.stopped) return;
    this.follower = new RetryingFollower(this.store, {
      since: this.startSeq,
      onChange: (change) => this.onChange(change),
      onError: (err, retryInMs) => {
        this.feedError = err.message;
        this.logger.warn({ err, retryInMs }, 'pages changes feed failed; reconnecting');
      },
    });
    this.follower.start();
  }

  private onChange(change: Change): void {
    this.feedError = undefined;
    if (!change.id.startsWith(SITE_PREFIX) && !change.id.startsWith(DEPLOY_PREFIX)) return;
    if (change.deleted || !change.doc) this.remove(change.id);
    else this.apply(change.doc);
    for (const listener of this.listeners) listener();
  }

  private apply(doc: StoredDoc): void {
    if (doc._deleted) return this.remove(doc._id);
    if (isSiteDoc(doc)) {
      const before = this.sites.get(doc.host);
      if (before) for (const alias of before.aliases) if (this.hosts.get(alias) === doc.host) this.hosts.delete(alias);
      this.sites.set(doc.host, doc);
      this.hosts.set(doc.host, doc.host);
      for (const alias of doc.aliases ?? []) this.hosts.set(alias, doc.host);
      this.refreshServing(doc.host);
    } else if (isDeploymentDoc(doc)) {
      if (this.deployments.has(doc.id)) return; // immutable: a second copy (replication) changes nothing
      try {
        this.deployments.set(doc.id, toLive(doc));
        this.refreshServing(doc.site);
      } catch (err) {
        this.logger.warn({ deployment: doc.id, err: (err as Error).message }, 'deployment could not be loaded; not served');
      }
    }
  }

  private remove(id: string): void {
    if (id.startsWith(SITE_PREFIX)) {
      const host = id.slice(SITE_PREFIX.length);
      const site = this.sites.get(host);
      if (!site) return;
      this.sites.delete(host);
      this.serving.delete(host);
      for (const name of [host, ...(site.aliases ?? [])]) if (this.hosts.get(name) === host) this.hosts.delete(name);
    } else if (id.startsWith(DEPLOY_PREFIX)) {
      this.deployments.delete(id.slice(DEPLOY_PREFIX.length));
    }
  }

  private refreshServing(host: string): void {
    const site = this.sites.get(host);
    if (!site) return;
    if (site.production === null) this.serving.delete(host);
    else if (this.deployments.has(site.production)) this.serving.set(host, site.production);
  }
}

function toLive(doc: DeploymentDoc): LiveDeployment {
  const files = new Map<string, FileEntry>(Object.entries(doc.files));
  let bytes = 0;
  for (const entry of files.values()) bytes += entry.size;
  return {
    id: doc.id,
    site: doc.site,
    files,
    redirects: compileRedirects(doc.redirects ?? []),
    headers: compileHeaderRules(doc.headers ?? []),
    createdAt: doc.createdAt,
    ...(doc.message ? { message: doc.message } : {}),
    author: doc.author,
    bytes,
  };
}
