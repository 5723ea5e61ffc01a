// Certificates ordered by the cluster: every node runs one manager, which orders a certificate for each hostname a
// site wants (in a zone edgedns serves, or delegated to one by CNAME) that no certificate covers, and renews its
// certificates two thirds into their lifetime. The lease (lease.ts) lets one node order a name at a time; the
// certificate document it writes reaches every node's HTTPS listener by replication.

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { ClusterSecrets } from '../secrets/cluster-secrets.js';
import type { Store } from '../store/store.js';
import { certId, covers, isCertDoc, type CertDoc } from '../tls/cert-docs.js';
import { writeCertificate } from '../tls/cert-writer.js';
import type { CertIndex } from '../tls/cert-index.js';
import type { ZoneSync } from '../zone/zone-sync.js';
import { accountClient, loadAcme } from './account.js';
import type { AcmeConfig } from './acme-config.js';
import { takeLease, DEFAULT_SETTLE_MS, type LeaseOutcome } from './lease.js';
import { NotOrderableError, orderCertificate, orderableTarget, type ChallengeTarget, type CnameResolver } from './order.js';

/** How often every node looks for names to order or renew. */
export const CHECK_INTERVAL_MS = 60_000;
/** How long an order waits for every nameserver to serve its challenge. */
const NS_TIMEOUT_MS = 60_000;
/** A name found not orderable (its zone's nameservers do not answer, no CNAME) is looked at again after this. */
const NOT_ORDERABLE_RETRY_MS = 10 * 60_000;

export type OrderResult =
  | { status: 'issued'; cert: CertDoc; ms: number }
  | { status: 'busy'; lease: Extract<LeaseOutcome, { reason: 'held' | 'backoff' }> }
  | { status: 'not_orderable'; reason: string }
  | { status: 'failed'; error: string };

/** An order that is not forced found the name no longer due: the store holds a current certificate for it. */
export interface NoLongerDue {
  status: 'current';
}

/**
 * The names due at `now`: wanted hosts no unexpired certificate covers, and ACME certificates two thirds into their
 * lifetime that a site still uses (or wildcards, ordered on request only; the others lapse).
 */
function namesDue(docs: readonly CertDoc[], wantedNames: readonly string[], now: number): Set<string> {
  const due = new Set<string>();
  const wanted = [...new Set(wantedNames.map((n) => n.toLowerCase()))];
  for (const host of wanted) {
    const covering = docs.filter((d) => Date.parse(d.notAfter) > now && d.names.some((n) => covers(n, host)));
    if (covering.length === 0) due.add(host);
  }
  for (const doc of docs) {
    if (doc.source !== 'acme' || !doc.renewAt || Date.parse(doc.renewAt) > now) continue;
    if (doc.name.startsWith('*.') || wanted.some((host) => doc.names.some((n) => covers(n, host)))) due.add(doc.name);
  }
  return due;
}

export interface CertManagerOptions {
  store: Store;
  secrets: ClusterSecrets;
  certs: CertIndex;
  sync: ZoneSync;
  config: AcmeConfig;
  challenges: { ttl: number; lifetimeMs: number };
  nodeId: string;
  logger: Logger;
  registry: Registry;
  /** The hostnames sites want certificates for (their hosts and aliases). */
  wantedNames: () => string[];
  settleMs?: number;
  resolveCname?: CnameResolver;
}

export class CertManager {
  private readonly orders: Counter<'result'>;
  private timer: NodeJS.Timeout | undefined;
  private pokeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Names this node will not look at again before the time (not orderable; its own failures). */
  private readonly notBefore = new Map<string, number>();

  constructor(private readonly options: CertManagerOptions) {
    this.orders = new Counter({ name: 'edgedns_acme_orders_total', help: 'ACME orders this node placed, by result (ok, failed)', labelNames: ['result'], registers: [options.registry] });
    this.orders.labels('ok');
    this.orders.labels('failed');
  }

  get enabled(): boolean {
    return this.options.config.directoryUrl !== undefined;
  }

  start(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.poke(0), CHECK_INTERVAL_MS);
    this.timer.unref();
    this.poke(1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pokeTimer);
    await this.running;
  }

  /** Look for work soon (a site or certificate changed); several pokes in a row make one pass. */
  poke(delayMs = 500): void {
    if (!this.enabled || this.stopped || this.pokeTimer) return;
    this.pokeTimer = setTimeout(() => {
      this.pokeTimer = undefined;
      if (this.running) return this.poke(delayMs);
      this.running = this.pass().finally(() => (this.running = undefined));
    }, delayMs);
    this.pokeTimer.unref();
  }

  /** Names due now by this node's view: wanted and uncovered, or ordered before and two thirds into their lifetime. */
  dueNames(now = Date.now()): string[] {
    return [...namesDue(this.options.certs.all(), this.options.wantedNames(), now)].sort();
  }

  /**
   * Whether `name` is still due with the store's own documents for it (the exact name, and the wildcard one label up)
   * in place of this node's view of them, which lags the store: a node that has just ordered the name wrote its
   * certificate there before it freed the lease.
   */
  private async stillDue(name: string): Promise<boolean> {
    const ids = [certId(name)];
    const dot = name.indexOf('.');
    if (!name.startsWith('*.') && dot > 0) ids.push(certId('*' + name.slice(dot)));
    const stored = new Map<string, CertDoc>();
    for (const id of ids) {
      const doc = await this.options.store.get(id);
      if (doc && isCertDoc(doc)) stored.set(doc.name, doc);
    }
    const docs = [...this.options.certs.all().filter((d) => !stored.has(d.name)), ...stored.values()];
    return namesDue(docs, this.options.wantedNames(), Date.now()).has(name);
  }

  private async pass(): Promise<void> {
    if (this.options.secrets.problem() !== undefined) return;
    for (const name of this.dueNames()) {
      if (this.stopped) return;
      if ((this.notBefore.get(name) ?? 0) > Date.now()) continue;
      const result = await this.order(name, false);
      if (result.status === 'not_orderable') this.notBefore.set(name, Date.now() + NOT_ORDERABLE_RETRY_MS);
    }
  }

  /**
   * Orders `name` now under the lease. `force` (edgedns cert renew) skips the cluster's back-off and orders even a
   * name that has a current certificate; otherwise the name must still be due once the lease is free (stillDue).
   */
  order(name: string, force: true): Promise<OrderResult>;
  order(name: string, force: boolean): Promise<OrderResult | NoLongerDue>;
  async order(name: string, force: boolean): Promise<OrderResult | NoLongerDue> {
    const { store, secrets, config, logger, nodeId } = this.options;
    if (!config.directoryUrl) return { status: 'not_orderable', reason: 'this node orders no certificates (--acme-directory none)' };
    const problem = secrets.problem();
    if (problem) return { status: 'not_orderable', reason: `secrets key: ${problem}` };
    let target: ChallengeTarget;
    try {
      target = await orderableTarget(this.options.sync, name, config.nsPort, this.options.resolveCname);
    } catch (err) {
      if (!(err instanceof NotOrderableError)) throw err;
      logger.info({ name, reason: err.message }, 'certificate not ordered');
      return { status: 'not_orderable', reason: err.message };
    }
    const stillWanted = force ? undefined : () => this.stillDue(name);
    const outcome = await takeLease(store, name, { nodeId, force, settleMs: this.options.settleMs ?? DEFAULT_SETTLE_MS, stillWanted });
    if (!outcome.taken && outcome.reason === 'unwanted') {
      logger.info({ name }, 'not ordering: the store holds a current certificate for the name (written by another node)');
      return { status: 'current' };
    }
    if (!outcome.taken) {
      logger.debug({ name, ...outcome }, 'not ordering: another node holds the lease or the cluster is backing off');
      return { status: 'busy', lease: outcome };
    }
    const started = Date.now();
    try {
      const acme = await loadAcme(config.caFile);
      const client = await accountClient({ store, secrets, directoryUrl: config.directoryUrl, email: config.email, nodeId, caFile: config.caFile });
      const issued = await orderCertificate(
        { acme, store, sync: this.options.sync, client, challenges: this.options.challenges, nsPort: config.nsPort, nsTimeoutMs: NS_TIMEOUT_MS, logger },
        name,
        target,
      );
      const cert = await writeCertificate(store, secrets, { name, chainPem: issued.chainPem, keyPem: issued.keyPem, source: 'acme', by: nodeId });
      await outcome.lease.release({ ok: true });
      this.orders.labels('ok').inc();
      const ms = Date.now() - started;
      logger.info({ name, notAfter: cert.notAfter, renewAt: cert.renewAt, serial: cert.serial, ms }, 'certificate issued');
      return { status: 'issued', cert, ms };
    } catch (err) {
      const error = (err as Error).message;
      const released = await outcome.lease.release({ ok: false, error }).catch(() => undefined);
      this.orders.labels('failed').inc();
      logger.error({ name, err: error, retryAt: released?.retryAt }, 'certificate order failed (the CA said)');
      return { status: 'failed', error };
    }
  }
}
