// The node's ACME settings, as src/node/config.ts reads them from flags and the API routes and the certificate
// manager use them.

export interface AcmeConfig {
  /** --acme-ttl: seconds, default 60. */
  ttl: number;
  /** --acme-lifetime: seconds a value lives unless removed, default 3600. */
  lifetimeMs: number;
  /** --acme-dns-domain: acme-dns registrations get <uuid>.<this> (a name inside a served zone); unset: no acme-dns. */
  dnsDomain?: string;
  /** --acme-directory: the CA certificates are ordered from; undefined ("none"): the cluster orders none. */
  directoryUrl?: string;
  /** --acme-email: the account's contact, for the CA's expiry and incident mail. */
  email?: string;
  /** --acme-ca-file: PEM trusted for the directory's TLS besides the system roots (a private CA; pebble in tests). */
  caFile?: string;
  /** --acme-ns-port: the DNS port of the zone's nameservers, checked before the CA validates (53). */
  nsPort: number;
}

/** Let's Encrypt's directories (RFC 8555 §7.1.1). */
export const LETS_ENCRYPT = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

/** The directory URL for `--acme-directory` (a URL, `letsencrypt`, `letsencrypt-staging`, `none`) and `--acme-staging`. */
export function directoryUrl(value: string, staging: boolean): string | undefined {
  if (staging) return LETS_ENCRYPT.staging;
  if (value === 'none') return undefined;
  if (value === 'letsencrypt') return LETS_ENCRYPT.production;
  if (value === 'letsencrypt-staging') return LETS_ENCRYPT.staging;
  return value;
}
