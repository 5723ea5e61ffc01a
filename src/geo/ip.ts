// Client addresses as the geo code uses them: family + octets, truncated to a prefix, formatted as cache keys.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../proto/rdata-ip.js';

export interface ClientAddress {
  family: 4 | 6;
  /** 4 or 16 octets, zero past the prefix. */
  bytes: Buffer;
  /** How many leading bits are the client's (an ECS source prefix, or 32/128 for a resolver address). */
  prefix: number;
}

/** Parses "81.2.69.160", "2001:db8::1" or an IPv4-mapped "::ffff:81.2.69.160" (as IPv4). */
export function parseIp(text: string): ClientAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4, prefix: 32 };
  const v6 = parseIPv6(text.toLowerCase());
  if (!v6) return undefined;
  if (v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff) {
    return { family: 4, bytes: Buffer.from(v6.subarray(12)), prefix: 32 };
  }
  return { family: 6, bytes: v6, prefix: 128 };
}

/** Octet `i` of an address cut to `prefix` bits. */
function maskedOctet(octet: number, i: number, prefix: number): number {
  const keep = prefix - i * 8;
  return keep >= 8 ? octet : keep <= 0 ? 0 : octet & (0xff << (8 - keep));
}

// Addresses are 4 or 16 octets: a loop over them costs less than Buffer.alloc's zero-filled ArrayBuffer and copy().
export function truncate(bytes: Buffer, prefix: number): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = maskedOctet(bytes[i], i, prefix);
  return out;
}

export function formatIp(family: 4 | 6, bytes: Buffer): string {
  return family === 4 ? formatIPv4(bytes) : formatIPv6(bytes);
}

/** "81.2.69.0/24": the network of `prefix` bits around the address. */
export function networkKey(address: ClientAddress, prefix: number): string {
  return `${formatIp(address.family, truncate(address.bytes, prefix))}/${prefix}`;
}

/** An ECS option's address (RFC 7871 §6: only ceil(source/8) octets are sent) as a full-width client address. */
export function fromClientSubnet(family: number, sourcePrefix: number, address: Buffer): ClientAddress | undefined {
  if (family !== 1 && family !== 2) return undefined;
  const width = family === 1 ? 4 : 16;
  const bytes = Buffer.allocUnsafe(width);
  for (let i = 0; i < width; i++) bytes[i] = i < address.length ? maskedOctet(address[i], i, sourcePrefix) : 0;
  return { family: family === 1 ? 4 : 6, bytes, prefix: sourcePrefix };
}

/**
 * False for addresses that say nothing about where a client is: private, loopback, link-local, CGNAT, multicast
 * and unspecified (RFC 6890). A resolver on such an address, or an ECS option carrying one, gives no location.
 */
export function isRoutable(address: ClientAddress): boolean {
  const b = address.bytes;
  if (address.family === 4) return isRoutableV4(b[0], b[1]);
  if (b.every((x) => x === 0)) return false; // :: and ::1 differ only in the last bit
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return false;
  if ((b[0] & 0xfe) === 0xfc) return false; // fc00::/7 unique local
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return false; // fe80::/10 link-local
  if (b[0] === 0xff) return false; // multicast
  return true;
}

/** isRoutable for IPv4 by its first two octets (every special-purpose block it excludes is /16 or wider). */
export function isRoutableV4(a: number, b: number): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && (b & 0xf0) === 16) return false;
  if (a === 192 && b === 168) return false;
  if (a === 100 && (b & 0xc0) === 64) return false;
  return true;
}

/** An IPv4 network as one number (address × 64 + prefix, below 2^38): a cache key built without a string. */
export function ipv4NetworkKey(bytes: Buffer, prefix: number): number {
  return (((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0) * 64 + prefix;
}

/** True when `address` lies inside the network `net`/`prefix` of the same family. */
export function inNetwork(address: ClientAddress, net: Buffer, prefix: number): boolean {
  if (net.length !== address.bytes.length || address.prefix < prefix) return false;
  return truncate(address.bytes, prefix).equals(truncate(net, prefix));
}
