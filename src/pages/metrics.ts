// Pages counters, registered on the node's registry (no globals, so tests get fresh ones).

import { Counter, Gauge, type Registry } from 'prom-client';

export class PagesMetrics {
  readonly requests: Counter<'site' | 'status'>;
  readonly bytesServed: Counter<'site'>;
  readonly cache: Counter<'result'>;
  readonly cacheBytes: Gauge;
  readonly uploads: Counter<'result'>;
  readonly uploadBytes: Counter;
  readonly deploys: Counter<'result'>;
  readonly promotions: Counter<'kind'>;
  readonly gcRuns: Counter;
  readonly gcBlobs: Counter;
  readonly gcBytes: Counter;
  readonly gcDeployments: Counter;
  readonly skewServed: Counter<'site'>;
  /** Set by whoever owns the cache; read at scrape time. */
  cacheSize: () => number = () => 0;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({ name: 'edgedns_pages_requests_total', help: 'Asset server requests, by site and status ("-" for unknown hosts)', labelNames: ['site', 'status'], registers });
    this.bytesServed = new Counter({ name: 'edgedns_pages_bytes_served_total', help: 'Body bytes sent by the asset server, by site', labelNames: ['site'], registers });
    this.cache = new Counter({ name: 'edgedns_pages_blob_cache_total', help: 'Blob cache lookups, by result (hit, miss)', labelNames: ['result'], registers });
    this.cacheBytes = new Gauge({ name: 'edgedns_pages_blob_cache_bytes', help: 'Bytes of blobs held in memory', registers, collect: () => this.cacheBytes.set(this.cacheSize()) });
    this.uploads = new Counter({ name: 'edgedns_pages_blob_uploads_total', help: 'Blob uploads, by result (stored, exists, hash_mismatch, too_large)', labelNames: ['result'], registers });
    this.uploadBytes = new Counter({ name: 'edgedns_pages_upload_bytes_total', help: 'Bytes of blobs stored by uploads', registers });
    this.deploys = new Counter({ name: 'edgedns_pages_deploys_total', help: 'Deployment commits, by result (ok, missing_blobs, invalid)', labelNames: ['result'], registers });
    this.promotions = new Counter({ name: 'edgedns_pages_promotions_total', help: 'Production pointer moves, by kind (deploy, promote, rollback)', labelNames: ['kind'], registers });
    this.gcRuns = new Counter({ name: 'edgedns_pages_gc_runs_total', help: 'Garbage collections run', registers });
    this.gcBlobs = new Counter({ name: 'edgedns_pages_gc_blobs_removed_total', help: 'Blobs removed by garbage collection', registers });
    this.gcBytes = new Counter({ name: 'edgedns_pages_gc_bytes_freed_total', help: 'Blob bytes removed by garbage collection', registers });
    this.skewServed = new Counter({
      name: 'edgedns_pages_skew_served_total',
      help: 'Requests for a path the production deployment lacks, served from the previous one during the grace period after a switch',
      labelNames: ['site'],
      registers,
    });
    this.gcDeployments = new Counter({ name: 'edgedns_pages_gc_deployments_removed_total', help: 'Deployments removed by garbage collection', registers });
  }
}
