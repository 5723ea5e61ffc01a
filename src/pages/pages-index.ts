// Sites and deployments held in memory, kept equal to the store by store/index-sync.ts (local state first, then the
// store, then its changes feed, recovering by itself whenever the store returns). Serving a request reads only this index and the blob cache. A deployment is
// immutable and a site's production pointer is one field of one document, so each change swaps in a whole new
// value: a request that picked its deployment keeps a consistent view even while a promotion lands.

import type { Logger } from 'pino';
import { IndexSync } from '../store/index-sync.js';
import type { LocalStateFile } from '../store/local-state.js';
import type { SyncTracker } from '../store/store-health.js';
import { waitApplied } from '../store/wait-applied.js';
import type { Store, StoredDoc } from '../store/store.js';
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

export interface PagesIndexOptions {
  /** Sites and manifests on local disk, for a start while the store is unreachable. */
  local?: LocalStateFile;
  tracker?: SyncTracker;
  /** After a production switch, paths the new deployment lacks come from the previous one this long (ms; 0: off). */
  skewGraceMs?: number;
  /** Injected so tests can move time; Date.now otherwise. */
  now?: () => number;
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
  /** Site host → the deployment production was before the last switch, and until when it fills in (skew). */
  private readonly before = new Map<string, { id: string; until: number }>();
  private readonly listeners = new Set<() => void>();
  private readonly sync: IndexSync;
  private readonly now: () => number;

  constructor(
    store: Store,
    private readonly logger: Logger,
    private readonly options: PagesIndexOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sync = new IndexSync({
      name: 'pages',
      store,
      prefixes: [SITE_PREFIX, DEPLOY_PREFIX],
      logger,
      local: options.local,
      tracker: options.tracker,
      apply: (doc) => this.apply(doc),
      remove: (id) => this.remove(id),
      reset: () => {
        this.sites.clear();
        this.hosts.clear();
        this.deployments.clear();
        this.serving.clear();
      },
      applied: () => {
        for (const listener of this.listeners) listener();
      },
    });
  }

  /** The index holds sites: from local state or the store (false only before either was read). */
  get loaded(): boolean {
    return this.sync.loaded;
  }

  /** Set while the store cannot be followed; cleared once the index is in sync again. */
  get feedError(): string | undefined {
    return this.sync.feedError;
  }

  async start(): Promise<void> {
    await this.sync.start();
  }

  async stop(): Promise<void> {
    await this.sync.stop();
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

  /**
   * The deployment that was production before the last switch, while the skew grace period lasts: pages loaded
   * just before a switch still find their old fingerprinted assets.
   */
  previousProduction(site: SiteDoc): LiveDeployment | undefined {
    const before = this.before.get(site.host);
    if (!before || this.now() >= before.until) return undefined;
    return this.deployments.get(before.id);
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
      this.before.delete(host);
      for (const name of [host, ...(site.aliases ?? [])]) if (this.hosts.get(name) === host) this.hosts.delete(name);
    } else if (id.startsWith(DEPLOY_PREFIX)) {
      this.deployments.delete(id.slice(DEPLOY_PREFIX.length));
    }
  }

  private refreshServing(host: string): void {
    const site = this.sites.get(host);
    if (!site) return;
    const was = this.serving.get(host);
    if (site.production === null) this.serving.delete(host);
    else if (this.deployments.has(site.production)) this.serving.set(host, site.production);
    const now = this.serving.get(host);
    const grace = this.options.skewGraceMs ?? 0;
    if (grace <= 0 || now === undefined || now === was) return;
    if (was !== undefined) {
      if (this.newer(now, was)) this.before.set(host, { id: was, until: this.now() + grace });
      else this.before.delete(host);
    } else if (site.previous && site.previous !== now && this.newer(now, site.previous) && !this.before.has(host)) {
      // Read at start or after a reconnect: the site document says when it moved and from what.
      const movedAt = Date.parse(site.updatedAt);
      if (Number.isFinite(movedAt)) this.before.set(host, { id: site.previous, until: movedAt + grace });
    }
  }

  /**
   * Skew protection fills in for pages of the deployment production moved forward from. A rollback (production back
   * to an older deployment) restores that one exactly: the newer one was taken out on purpose.
   */
  private newer(id: string, than: string): boolean {
    const a = this.deployments.get(id);
    const b = this.deployments.get(than);
    return a !== undefined && b !== undefined && (a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id));
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
