// Writing a certificate document: the chain in clear, the private key sealed with the cluster key under the
// document's id. Used by the ACME manager after an order and by `edgedns cert import`.

import type { ClusterSecrets } from '../secrets/cluster-secrets.js';
import { ConflictError, type Store } from '../store/store.js';
import { certId, certificateFacts, renewalTime, type CertDoc, type CertSource } from './cert-docs.js';

export async function writeCertificate(
  store: Store,
  secrets: ClusterSecrets,
  cert: { name: string; chainPem: string; keyPem: string; source: CertSource; by: string },
): Promise<CertDoc> {
  const facts = certificateFacts(cert.chainPem);
  const id = certId(cert.name);
  for (let attempt = 0; ; attempt++) {
    const current = await store.get(id);
    const doc: CertDoc = {
      _id: id,
      ...(current?._rev ? { _rev: current._rev } : {}),
      type: 'cert',
      name: cert.name,
      ...facts,
      source: cert.source,
      chainPem: cert.chainPem,
      secret: await secrets.seal(cert.keyPem, id),
      // An imported certificate is the operator's to replace; only ordered ones are renewed.
      ...(cert.source === 'acme' ? { renewAt: renewalTime(facts) } : {}),
      by: cert.by,
      updatedAt: new Date().toISOString(),
    };
    try {
      doc._rev = (await store.put(doc)).rev;
      return doc;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 4) throw err;
    }
  }
}
