// /v1/certs: the certificates the cluster serves (list), an order now (renew), bring-your-own (import); and
// /v1/secrets/rotate. Admin keys only: certificates and the cluster key concern every site.

import type { FastifyInstance } from 'fastify';
import { ACCOUNT_PREFIX } from '../../acme/account.js';
import type { CertManager } from '../../acme/cert-manager.js';
import { isLeaseDoc, leaseId } from '../../acme/lease.js';
import { isValidHost, normalizeHost } from '../../pages/model.js';
import type { ClusterSecrets } from '../../secrets/cluster-secrets.js';
import type { Store, StoredDoc } from '../../store/store.js';
import { CERT_PREFIX, checkPair, covers, type CertDoc } from '../../tls/cert-docs.js';
import type { CertIndex } from '../../tls/cert-index.js';
import { writeCertificate } from '../../tls/cert-writer.js';
import { ApiError } from '../../errors.js';
import { adminFirst } from '../auth.js';

export interface TlsServices {
  certs: CertIndex;
  secrets: ClusterSecrets;
  manager: CertManager;
}

export interface CertRoutesOptions extends TlsServices {
  store: Store;
  nodeId: string;
}

/** A hostname, or a wildcard one label deep over at least two labels ("*.example.com"). */
export function certName(raw: string, field = 'name'): string {
  const name = normalizeHost(raw);
  const wildcard = name.startsWith('*.');
  const host = wildcard ? name.slice(2) : name;
  if (!isValidHost(host) || (wildcard && !host.includes('.'))) throw new ApiError('bad_request', `"${raw}" is not a hostname or *.hostname`, field);
  return name;
}

const PEM_LIMIT = 64 * 1024;

/** The node holding a name's ACME lease (ordering it now), or null when the lease is free or expired. */
function heldBy(lease: StoredDoc | undefined): string | null {
  return isLeaseDoc(lease) && lease.holder !== '' && Date.parse(lease.expiresAt) > Date.now() ? lease.holder : null;
}

export async function certRoutes(app: FastifyInstance, options: CertRoutesOptions): Promise<void> {
  const { store, certs, secrets, manager, nodeId } = options;

  const view = async (doc: CertDoc) => {
    const lease = await store.get(leaseId(doc.name));
    return {
      name: doc.name,
      names: doc.names,
      source: doc.source,
      notBefore: doc.notBefore,
      notAfter: doc.notAfter,
      renewAt: doc.renewAt ?? null,
      serial: doc.serial,
      issuer: doc.issuer,
      by: doc.by,
      updatedAt: doc.updatedAt,
      servedHere: certs.lookup(doc.name)?.doc._id === doc._id,
      // the node renewing it now, if one is: a forced renewal elsewhere meanwhile is answered 409 lease_held
      renewingBy: heldBy(lease),
      error: certs.failures.get(doc._id) ?? (isLeaseDoc(lease) ? lease.lastError : undefined) ?? null,
    };
  };

  app.get('/v1/certs', adminFirst('listing certificates'), async () => {
    const docs = certs.all();
    const due = manager.dueNames();
    const pending = await Promise.all(
      due
        .filter((name) => !docs.some((d) => d.names.some((n) => covers(n, name))))
        .map(async (name) => {
          const lease = await store.get(leaseId(name));
          return {
            name,
            holder: heldBy(lease),
            retryAt: isLeaseDoc(lease) ? (lease.retryAt ?? null) : null,
            error: isLeaseDoc(lease) ? (lease.lastError ?? null) : null,
          };
        }),
    );
    return { ordering: manager.enabled, secrets: secrets.problem() ?? 'ok', certificates: await Promise.all(docs.map(view)), pending };
  });

  app.post<{ Params: { name: string } }>('/v1/certs/:name/renew', adminFirst('ordering certificates'), async (request) => {
    const name = certName(request.params.name);
    const result = await manager.order(name, true);
    if (result.status === 'issued') {
      // "Done" means served here: wait for this node's listener to load it.
      await certs.waitFor(() => certs.doc(name)?.serial === result.cert.serial && certs.lookup(name) !== undefined, 5000);
      return { ...(await view(result.cert)), ms: result.ms };
    }
    if (result.status === 'busy') {
      const lease = result.lease;
      if (lease.reason === 'held') throw new ApiError('lease_held', `${lease.holder} is ordering ${name} (lease until ${lease.until}); its certificate reaches every node when done`, 'name');
      throw new ApiError('lease_held', `the cluster backs off ordering ${name} until ${lease.until} after: ${lease.lastError ?? 'a failure'}`, 'name');
    }
    if (result.status === 'not_orderable') throw new ApiError('not_orderable', result.reason, 'name');
    throw new ApiError('order_failed', `the order for ${name} failed: ${result.error}`, 'name');
  });

  app.put<{ Params: { name: string }; Body: { cert: string; key: string } }>(
    '/v1/certs/:name',
    {
      ...adminFirst('importing certificates'),
      schema: {
        body: {
          type: 'object',
          properties: { cert: { type: 'string', maxLength: PEM_LIMIT }, key: { type: 'string', maxLength: PEM_LIMIT } },
          required: ['cert', 'key'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const name = certName(request.params.name);
      checkPair(name, request.body.cert, request.body.key);
      const doc = await writeCertificate(store, secrets, { name, chainPem: request.body.cert, keyPem: request.body.key, source: 'import', by: nodeId });
      await certs.waitFor(() => certs.doc(name)?._rev === doc._rev && certs.lookup(name) !== undefined, 5000);
      return reply.status(201).send(await view(doc));
    },
  );

  app.post('/v1/secrets/rotate', adminFirst('rotating the secrets key'), async () => {
    const result = await secrets.rotate([CERT_PREFIX, ACCOUNT_PREFIX]);
    return { ...result, file: secrets.file, next: 'copy this file to every other node of the cluster; they re-read it when they meet the new key' };
  });
}
