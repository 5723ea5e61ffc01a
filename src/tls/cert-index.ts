// Certificates held in memory for the HTTPS listener: every `cert/` document, its key opened with the cluster key and
// turned into a TLS context once, kept current by the changes feed (a renewal written by any node is served here as
// soon as it replicates). SNI picks a context with two map lookups: the exact name, then its wildcard.

import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { isSealedValue } from '../secrets/aead.js';
import { KEY_MARKER_ID, type ClusterSecrets } from '../secrets/cluster-secrets.js';
import { RetryingFollower } from '../store/retrying-follower.js';
import type { Change, Store, StoredDoc } from '../store/store.js';
import { waitApplied } from '../store/wait-applied.js';
import { CERT_PREFIX, isCertDoc, type CertDoc } from './cert-docs.js';

export interface LoadedCert {
  doc: CertDoc;
  context: SecureContext;
}

/** Certificates this close to their end make /healthz say "degraded" (renewal should have happened long before). */
export const EXPIRY_WARNING_MS = 7 * 86400_000;

export class CertIndex {
  private readonly docs = new Map<string, CertDoc>();
  private readonly loaded = new Map<string, LoadedCert>();
  /** Hostname or wildcard name → the certificate served for it. */
  private byName = new Map<string, LoadedCert>();
  /** Document id → why its key does not open here. */
  readonly failures = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private follower: RetryingFollower | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly secrets: ClusterSecrets,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    const expiry: Gauge<'host'> = new Gauge({
      name: 'edgedns_tls_cert_expiry_timestamp_seconds',
      help: 'When the certificate served for a hostname expires (Unix seconds)',
      labelNames: ['host'],
      registers: [registry],
      collect: () => {
        expiry.reset();
        for (const [name, cert] of this.byName) expiry.labels(name).set(Math.floor(Date.parse(cert.doc.notAfter) / 1000));
      },
    });
    secrets.onChange(() => void this.reopenAll());
  }

  async start(): Promise<void> {
    let since = '0';
    try {
      since = await this.store.updateSeq();
      const marker = await this.store.get(KEY_MARKER_ID);
      if (marker) this.secrets.applyMarker(marker);
      for (const doc of await this.store.list(CERT_PREFIX)) await this.apply(doc);
    } catch (err) {
      since = '0';
      this.logger.warn({ err: (err as Error).message }, 'cannot read certificates from the store yet; following its changes instead');
    }
    if (this.stopped) return;
    this.follower = new RetryingFollower(this.store, {
      since,
      prefixes: [CERT_PREFIX],
      onChange: (change) => void this.onChange(change),
      onError: (err, retryInMs) => this.logger.warn({ err, retryInMs }, 'certificate changes feed failed; reconnecting'),
    });
    this.follower.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.follower?.stop();
  }

  /** The TLS context for an SNI name: the exact name, else the wildcard one label up. */
  context(servername: string): SecureContext | undefined {
    return this.lookup(servername.toLowerCase())?.context;
  }

  lookup(host: string): LoadedCert | undefined {
    const exact = this.byName.get(host);
    if (exact) return exact;
    const dot = host.indexOf('.');
    return dot > 0 ? this.byName.get('*' + host.slice(dot)) : undefined;
  }

  /** Every certificate document, whether its key opened here or not. */
  all(): CertDoc[] {
    return [...this.docs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  doc(name: string): CertDoc | undefined {
    return this.docs.get(name);
  }

  /** Names whose served certificate ends within EXPIRY_WARNING_MS. */
  expiringSoon(now = Date.now()): string[] {
    return [...this.byName].filter(([, c]) => Date.parse(c.doc.notAfter) - now < EXPIRY_WARNING_MS).map(([name]) => name).sort();
  }

  get servedCount(): number {
    return this.loaded.size;
  }

  onApplied(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  waitFor(check: () => boolean, ms: number): Promise<boolean> {
    return waitApplied((listener) => this.onApplied(listener), check, ms);
  }

  private async onChange(change: Change): Promise<void> {
    if (change.id === KEY_MARKER_ID) {
      if (change.doc && !change.deleted) this.secrets.applyMarker(change.doc);
      return;
    }
    if (!change.id.startsWith(CERT_PREFIX)) return;
    if (change.deleted || !change.doc) this.remove(change.id.slice(CERT_PREFIX.length));
    else await this.apply(change.doc);
  }

  private async apply(doc: StoredDoc): Promise<void> {
    if (doc._deleted) return this.remove(doc._id.slice(CERT_PREFIX.length));
    if (!isCertDoc(doc)) return;
    const name = doc.name;
    const before = this.docs.get(name);
    if (before && before._rev === doc._rev) return;
    this.docs.set(name, doc);
    const loaded = await this.load(doc);
    // A newer revision of the same name may have been applied while this one was opening.
    if (this.docs.get(name) !== doc) return;
    this.keep(name, doc, loaded);
    this.rebuild();
    for (const listener of this.listeners) listener();
  }

  private remove(name: string): void {
    this.docs.delete(name);
    this.loaded.delete(name);
    this.failures.delete(CERT_PREFIX + name);
    this.rebuild();
    for (const listener of this.listeners) listener();
  }

  private async load(doc: CertDoc): Promise<LoadedCert | undefined> {
    if (!isSealedValue(doc.secret)) {
      this.failures.set(doc._id, 'the document holds no sealed private key');
      return undefined;
    }
    try {
      const keyPem = await this.secrets.open(doc.secret, doc._id);
      const context = createSecureContext({ cert: doc.chainPem, key: keyPem, minVersion: 'TLSv1.2' });
      this.failures.delete(doc._id);
      return { doc, context };
    } catch (err) {
      const reason = (err as Error).message;
      if (this.failures.get(doc._id) !== reason) this.logger.error({ cert: doc.name, reason }, 'certificate not served: its private key does not open on this node');
      this.failures.set(doc._id, reason);
      return undefined;
    }
  }

  /**
   * A certificate that no longer opens here but is the one already served (sealed again under a key this node has
   * not been given yet: a rotation elsewhere) keeps being served; its failure is still reported.
   */
  private keep(name: string, doc: CertDoc, loaded: LoadedCert | undefined): void {
    if (loaded) this.loaded.set(name, loaded);
    else if (this.loaded.get(name)?.doc.chainPem !== doc.chainPem) this.loaded.delete(name);
  }

  /** SIGHUP: every certificate's key opened again (with the key file as read now); what is served after. */
  async reload(): Promise<{ served: number; failed: number }> {
    await this.reopenAll();
    return { served: this.loaded.size, failed: this.failures.size };
  }

  private async reopenAll(): Promise<void> {
    for (const doc of [...this.docs.values()]) {
      const loaded = await this.load(doc);
      if (this.docs.get(doc.name) !== doc) continue;
      this.keep(doc.name, doc, loaded);
    }
    this.rebuild();
    for (const listener of this.listeners) listener();
  }

  /**
   * Name → certificate. A document named for the host wins (an imported certificate replaces the ordered one by
   * taking its name); among other certificates covering a name, the one that lasts longest.
   */
  private rebuild(): void {
    const next = new Map<string, LoadedCert>();
    const rank = (name: string, cert: LoadedCert): boolean => {
      const held = next.get(name);
      if (!held) return true;
      if (held.doc.name === name) return false;
      return cert.doc.name === name || cert.doc.notAfter > held.doc.notAfter;
    };
    for (const cert of this.loaded.values()) {
      for (const name of new Set([cert.doc.name, ...cert.doc.names])) if (rank(name, cert)) next.set(name, cert);
    }
    this.byName = next;
  }
}
