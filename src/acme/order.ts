// One ACME order for one name, DNS-01 through edgedns's own challenge store: no certbot, no hook. The challenge TXT is
// written like any RRset (so it replicates), and the CA is asked to validate only once every nameserver of the zone
// answers it authoritatively; the values are removed whatever happens.

import { Resolver } from 'node:dns/promises';
import type { Logger } from 'pino';
import type * as acme from 'acme-client';
import type { Store } from '../store/store.js';
import type { ZoneSync } from '../zone/zone-sync.js';
import { addChallenge, challengeName, removeChallenge, zoneFor, type ChallengeSettings } from './challenges.js';
import { nameserversNotAnswering, zoneNameservers } from './nameservers.js';
import { waitForNameservers } from './wait-nameservers.js';

export class NotOrderableError extends Error {}

export interface ChallengeTarget {
  zone: string;
  /** Where the TXT value goes: `_acme-challenge.<name>.`, or the served name its CNAME points to. */
  fqdn: string;
}

export type CnameResolver = (name: string) => Promise<string[]>;

/** The system's resolvers, asked once with a short timeout: a background check must not hold up shutdown. */
function systemCnameResolver(): CnameResolver {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  return (name) => resolver.resolveCname(name);
}

/**
 * Where the DNS-01 value for `name` is written: in the served zone that holds `_acme-challenge.<name>`, or, for a
 * name edgedns does not serve, where that name's `_acme-challenge` CNAME points when that lies in a served zone (the
 * delegation acme-dns popularised). NotOrderableError otherwise.
 */
export async function challengeTarget(name: string, zoneNames: string[], resolve: CnameResolver = systemCnameResolver()): Promise<ChallengeTarget> {
  const fqdn = challengeName(name);
  const zone = zoneFor(zoneNames, fqdn);
  if (zone) return { zone, fqdn };
  let targets: string[] = [];
  try {
    targets = await resolve(fqdn.replace(/\.$/, ''));
  } catch {
    // no CNAME (or no answer): not ours to order
  }
  for (const target of targets) {
    const key = target.toLowerCase().replace(/\.?$/, '.');
    const delegated = zoneFor(zoneNames, key);
    if (delegated) return { zone: delegated, fqdn: key };
  }
  throw new NotOrderableError(`edgedns serves no zone holding ${fqdn} (and it is no CNAME into one), so it cannot answer the DNS-01 challenge for ${name}`);
}

export interface OrderContext {
  /** The loaded library (account.ts loadAcme). */
  acme: typeof acme;
  store: Store;
  sync: ZoneSync;
  client: acme.Client;
  challenges: ChallengeSettings;
  /** Port the zone's nameservers answer DNS on (53 in production). */
  nsPort: number;
  /** How long to wait for every nameserver to answer the challenge. */
  nsTimeoutMs: number;
  logger: Logger;
}

export interface Issued {
  chainPem: string;
  keyPem: string;
}

/**
 * Where `name`'s challenge goes, once every nameserver of that zone answers the zone authoritatively: checked before
 * a lease is taken or the CA is asked, so a zone whose delegation does not reach edgedns costs the CA nothing.
 */
export async function orderableTarget(sync: ZoneSync, name: string, nsPort: number, resolve?: CnameResolver): Promise<ChallengeTarget> {
  const target = await challengeTarget(name, sync.zoneNames(), resolve);
  const silent = await nameserversNotAnswering(zoneNameservers(sync, target.zone), target.zone, nsPort);
  if (silent.length > 0) throw new NotOrderableError(`not every nameserver of ${target.zone} answers it authoritatively (${silent.join(', ')}); no order placed for ${name}`);
  return target;
}

export async function orderCertificate(ctx: OrderContext, name: string, target: ChallengeTarget): Promise<Issued> {
  const { store, sync, client, logger, acme } = ctx;
  const nameservers = zoneNameservers(sync, target.zone);

  const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }] });
  const placed: { value: string; challenge: acme.Authorization['challenges'][number] }[] = [];
  try {
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status === 'valid') continue;
      const challenge = authz.challenges.find((c) => c.type === 'dns-01');
      if (!challenge) throw new Error(`the CA offers no dns-01 challenge for ${authz.identifier.value}`);
      const value = await client.getChallengeKeyAuthorization(challenge);
      await addChallenge(store, target.zone, target.fqdn, value, ctx.challenges);
      placed.push({ value, challenge });
    }
    for (const { value } of placed) {
      const waited = await waitForNameservers(nameservers, target.fqdn, value, { port: ctx.nsPort, timeoutMs: ctx.nsTimeoutMs, intervalMs: 250 });
      logger.debug({ name, fqdn: target.fqdn, ms: waited.ms, checked: waited.checked }, 'every nameserver answers the challenge');
    }
    for (const { challenge } of placed) {
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    }
    const key = await acme.crypto.createPrivateEcdsaKey('P-256');
    // A common name holds at most 64 characters (RFC 5280 ub-common-name); the SAN is what clients check.
    const [, csr] = await acme.crypto.createCsr({ ...(name.length <= 64 ? { commonName: name } : {}), altNames: [name] }, key);
    const finalized = await client.finalizeOrder(order, csr);
    const chainPem = await client.getCertificate(finalized);
    return { chainPem, keyPem: key.toString() };
  } finally {
    for (const { value } of placed) {
      await removeChallenge(store, target.zone, target.fqdn, value, ctx.challenges).catch((err: unknown) =>
        logger.warn({ name, err: (err as Error).message }, 'could not remove a challenge value; it expires on its own'),
      );
    }
  }
}
