// edgedns cert list|renew|import and edgedns secrets rotate: talk to a running node's /v1/certs and /v1/secrets API.

import { readFile } from 'node:fs/promises';
import { apiClient } from './api-client.js';
import type { ParsedArgs } from './args.js';
import { API_OPTIONS, UsageError, type CommandOptions } from './args.js';

export const CERT_HELP = `Usage:
  edgedns cert list                          certificates the cluster serves, and names still waiting for one
  edgedns cert renew NAME                    order a certificate for NAME now (a hostname or *.zone), skipping the
                                             cluster's back-off; another node holding NAME's lease answers instead
  edgedns cert import NAME --cert FILE --key FILE
                                             serve your own certificate (PEM chain, then its PEM key) for NAME; the
                                             cluster does not renew it (order again with cert renew NAME)

Options:
  --api H:P      the node's API address (EDGEDNS_API, default 127.0.0.1:8053)
  --data DIR     where admin.key is (EDGEDNS_DATA); EDGEDNS_API_KEY overrides it
`;

export const CERT_OPTIONS: CommandOptions = { ...API_OPTIONS, cert: { type: 'string' }, key: { type: 'string' } };

export const SECRETS_HELP = `Usage:
  edgedns secrets rotate                     a new cluster secrets key: the node seals every private key in the
                                             store with it and rewrites its key file (keeping the old key for
                                             opening); then copy that file to every other node

Options:
  --api H:P      the node's API address (EDGEDNS_API, default 127.0.0.1:8053)
  --data DIR     where admin.key is (EDGEDNS_DATA); EDGEDNS_API_KEY overrides it
`;

export const SECRETS_OPTIONS: CommandOptions = { ...API_OPTIONS };

interface CertView {
  name: string;
  source: string;
  notAfter: string;
  renewAt: string | null;
  servedHere: boolean;
  renewingBy: string | null;
  error: string | null;
  serial: string;
}

interface Pending {
  name: string;
  holder: string | null;
  retryAt: string | null;
  error: string | null;
}

const day = (iso: string | null): string => (iso ? iso.slice(0, 10) : '-');

export async function certCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, name] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(CERT_HELP);
    return;
  }
  const client = await apiClient(args.flags);
  if (sub === 'list') {
    const list = (await (await client.request('GET', '/v1/certs')).json()) as { ordering: boolean; secrets: string; certificates: CertView[]; pending: Pending[] };
    if (list.secrets !== 'ok') out.write(`secrets key problem on this node: ${list.secrets}\n`);
    if (!list.ordering) out.write('this node orders no certificates (--acme-directory none)\n');
    const width = Math.max(4, ...list.certificates.map((c) => c.name.length), ...list.pending.map((p) => p.name.length));
    out.write(`${'NAME'.padEnd(width)}  SOURCE   EXPIRES     RENEWS      HERE  NOTE\n`);
    for (const c of list.certificates) {
      out.write(`${c.name.padEnd(width)}  ${c.source.padEnd(7)}  ${day(c.notAfter).padEnd(10)}  ${day(c.renewAt).padEnd(10)}  ${c.servedHere ? 'yes ' : 'no  '}  ${c.renewingBy ? `being renewed by ${c.renewingBy}` : (c.error ?? '')}\n`);
    }
    for (const p of list.pending) {
      const note = p.holder ? `being ordered by ${p.holder}` : p.error ? `retry after ${p.retryAt ?? 'soon'}: ${p.error}` : 'waiting for an order';
      out.write(`${p.name.padEnd(width)}  ${'-'.padEnd(7)}  ${'-'.padEnd(10)}  ${'-'.padEnd(10)}  no    ${note}\n`);
    }
  } else if (sub === 'renew') {
    if (!name) throw new UsageError('cert renew needs a NAME');
    const result = (await (await client.request('POST', `/v1/certs/${encodeURIComponent(name)}/renew`)).json()) as CertView & { ms: number };
    out.write(`${result.name}: new certificate ${result.serial}, valid until ${result.notAfter} (ordered in ${result.ms} ms)\n`);
  } else if (sub === 'import') {
    if (!name) throw new UsageError('cert import needs a NAME');
    if (typeof args.flags.cert !== 'string' || typeof args.flags.key !== 'string') throw new UsageError('cert import needs --cert FILE and --key FILE');
    const body = JSON.stringify({ cert: await readFile(args.flags.cert, 'utf8'), key: await readFile(args.flags.key, 'utf8') });
    const result = (await (await client.request('PUT', `/v1/certs/${encodeURIComponent(name)}`, { body, contentType: 'application/json' })).json()) as CertView;
    out.write(`${result.name}: imported certificate ${result.serial}, valid until ${result.notAfter}${result.servedHere ? '' : '; this node does not serve it yet, check its log'}\n`);
  } else throw new UsageError(`unknown cert command "${sub}"\n\n${CERT_HELP}`);
}

export async function secretsCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(SECRETS_HELP);
    return;
  }
  if (sub !== 'rotate') throw new UsageError(`unknown secrets command "${sub}"\n\n${SECRETS_HELP}`);
  const client = await apiClient(args.flags);
  const result = (await (await client.request('POST', '/v1/secrets/rotate')).json()) as { kid: string; previous: string; resealed: number; file: string };
  out.write(`secrets key ${result.previous} replaced by ${result.kid}; ${result.resealed} private key(s) sealed again\nnow copy ${result.file} from that node to every other node of the cluster\n`);
}
