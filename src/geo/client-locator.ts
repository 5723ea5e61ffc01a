// Where a query comes from: the ECS network when it says something (RFC 7871), else the resolver's address, placed
// by GeoIP, with the scope prefix the answer may claim. GeoIP is enrichment: an address it cannot place is an unknown
// place, never a failed query.

import type { ClientSubnet } from '../proto/query-reader.js';
import { UNKNOWN_PLACE, type GeoIp, type GeoLocation, type GeoResult } from './geoip.js';
import { fromClientSubnet, isRoutable, networkKey, parseIp, truncate, type ClientAddress } from './ip.js';

/** Never tell resolvers an answer holds for less than these (RFC 7871 §7.3 advises /24 and /56; /32 kills caches). */
export const MAX_SCOPE = { 4: 24, 6: 56 } as const;

export type ClientSource = 'ecs' | 'resolver' | 'none';

export interface ClientView {
  source: ClientSource;
  /** The address GeoIP was asked about, as text with its prefix ("81.2.69.0/24"). */
  network?: string;
  location?: GeoLocation;
  /** Prefix of the GeoIP network the address fell in. */
  geoipPrefix?: number;
  /** What the reply's ECS scope says (0 when the answer does not depend on the ECS address). */
  scopePrefix: number;
  /** The client network selection hashes and caches on. */
  networkKey: string;
  address?: ClientAddress;
}

/** Where a query comes from, before it is widened to a scope. */
export interface Whereabouts {
  source: ClientSource;
  address?: ClientAddress;
  geo: GeoResult;
  /** The scope prefix: the client's, GeoIP's and the RFC 7871 maximum, lengthened for CIDR pins. */
  prefix: number;
}

export function locateClient(geoip: GeoIp | undefined, ecs: ClientSubnet | undefined, remote: string | undefined, longestCidrPin: number): Whereabouts {
  let address: ClientAddress | undefined;
  let source: ClientSource = 'none';
  // RFC 7871 §7.1.2: a source prefix of 0 asks us not to use the client's address; nor does a private one tell us anything
  if (ecs && ecs.sourcePrefix > 0) {
    const fromEcs = fromClientSubnet(ecs.family, ecs.sourcePrefix, ecs.address);
    if (fromEcs && isRoutable(fromEcs)) {
      address = fromEcs;
      source = 'ecs';
    }
  }
  if (!address && remote) {
    const resolver = parseIp(remote);
    if (resolver && isRoutable(resolver)) {
      address = resolver;
      source = 'resolver';
    }
  }
  if (!address) return { source, geo: UNKNOWN_PLACE, prefix: 0 };
  const geo = geoip?.lookup(address) ?? UNKNOWN_PLACE;
  let prefix = Math.min(address.prefix, geo.networkPrefix, MAX_SCOPE[address.family]);
  if (longestCidrPin > prefix) prefix = Math.min(address.prefix, longestCidrPin, MAX_SCOPE[address.family]);
  return { source, address, geo, prefix };
}

/** Where a query comes from, as the explain API shows it. */
export function describeClient(geoip: GeoIp | undefined, ecs: ClientSubnet | undefined, remote: string | undefined, longestCidrPin: number): ClientView {
  const { source, address, geo, prefix } = locateClient(geoip, ecs, remote, longestCidrPin);
  if (!address) return { source, scopePrefix: 0, networkKey: 'unknown' };
  return {
    source,
    network: networkKey(address, address.prefix),
    location: geo.location,
    geoipPrefix: geo.networkPrefix,
    // the answer depends on the ECS address only when it came from ECS
    scopePrefix: source === 'ecs' ? prefix : 0,
    networkKey: networkKey(address, prefix),
    address: { family: address.family, bytes: truncate(address.bytes, prefix), prefix: address.prefix },
  };
}
