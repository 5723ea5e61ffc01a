// Certificate documents: `cert/<name>`, one per hostname (or `*.zone` wildcard), written by the node that ordered or
// imported it and replicated to every node. The chain is public and stays in clear; the private key is sealed with
// the cluster key (src/secrets), the document id bound to it.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { SealedValue } from '../secrets/aead.js';
import type { StoredDoc } from '../store/store.js';
import { CertificateError } from '../errors.js';

export const CERT_PREFIX = 'cert/';

export type CertSource = 'acme' | 'import';

export interface CertDoc extends StoredDoc {
  type: 'cert';
  /** The hostname this document is for (its id without the prefix). */
  name: string;
  /** Every DNS name the certificate covers (its subjectAltName). */
  names: string[];
  source: CertSource;
  /** Leaf first, then the intermediates. */
  chainPem: string;
  /** The private key's PEM, sealed. */
  secret: SealedValue;
  notBefore: string;
  notAfter: string;
  /** When the cluster renews it (ACME certificates only): two thirds into its lifetime. */
  renewAt?: string;
  serial: string;
  issuer: string;
  /** The node that wrote it, and when. */
  by: string;
  updatedAt: string;
}

export const certId = (name: string): string => CERT_PREFIX + name;

export function isCertDoc(doc: StoredDoc): doc is CertDoc {
  return doc.type === 'cert' && typeof doc.name === 'string' && doc._id === certId(doc.name) && typeof doc.chainPem === 'string' && Array.isArray(doc.names);
}

export { CertificateError };

export interface CertificateFacts {
  names: string[];
  notBefore: string;
  notAfter: string;
  serial: string;
  issuer: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The leaf's names, validity, serial and issuer; CertificateError when the PEM holds no certificate. */
export function certificateFacts(chainPem: string): CertificateFacts {
  const first = chainPem.match(PEM_CERT)?.[0];
  if (!first) throw new CertificateError('the certificate file holds no PEM certificate', 'cert');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(first);
  } catch (err) {
    throw new CertificateError(`the certificate does not parse: ${(err as Error).message}`, 'cert');
  }
  const names = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  return { names, notBefore: new Date(leaf.validFrom).toISOString(), notAfter: new Date(leaf.validTo).toISOString(), serial: leaf.serialNumber, issuer: leaf.issuer.replace(/\n/g, ', ') };
}

/** Whether a certificate name ("www.example.com" or "*.example.com") covers a hostname (RFC 6125 §6.4.3: one label). */
export function covers(certName: string, host: string): boolean {
  if (certName === host) return true;
  if (!certName.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === certName.slice(2);
}

/** Checks a certificate and key pair for import: they match, the certificate covers `name` and has not expired. */
export function checkPair(name: string, chainPem: string, keyPem: string, now = Date.now()): CertificateFacts {
  const facts = certificateFacts(chainPem);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new CertificateError(`the private key does not parse: ${(err as Error).message}`, 'key');
  }
  const leaf = new X509Certificate((chainPem.match(PEM_CERT) as string[])[0] as string);
  if (!leaf.checkPrivateKey(key)) throw new CertificateError('the private key does not belong to the certificate', 'key');
  if (!facts.names.some((n) => covers(n, name))) throw new CertificateError(`the certificate names ${facts.names.join(', ') || 'no DNS name'}, not ${name}`, 'cert');
  if (Date.parse(facts.notAfter) <= now) throw new CertificateError(`the certificate expired at ${facts.notAfter}`, 'cert');
  return facts;
}

/** Two thirds into the lifetime: Let's Encrypt's advice (renew 30 days before a 90-day certificate ends). */
export function renewalTime(facts: { notBefore: string; notAfter: string }): string {
  const from = Date.parse(facts.notBefore);
  const to = Date.parse(facts.notAfter);
  return new Date(from + ((to - from) * 2) / 3).toISOString();
}
