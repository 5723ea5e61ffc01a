// The node's ACME DNS-01 settings, as src/node/config.ts reads them from flags and the API routes use them.

export interface AcmeConfig {
  /** --acme-ttl: seconds, default 60. */
  ttl: number;
  /** --acme-lifetime: seconds a value lives unless removed, default 3600. */
  lifetimeMs: number;
  /** --acme-dns-domain: acme-dns registrations get <uuid>.<this> (a name inside a served zone); unset: no acme-dns. */
  dnsDomain?: string;
}
