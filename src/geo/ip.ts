// Client addresses as the geo code uses them: family + octets, truncated to a prefix, formatted as cache keys.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../zone/rdata-ip.js';

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

export function truncate(bytes: Buffer, prefix: number): Buffer {
  const out = Buffer.alloc(bytes.length);
  const whole = prefix >> 3;
  bytes.copy(out, 0, 0, Math.min(whole, bytes.length));
  const rest = prefix & 7;
  if (rest && whole < bytes.length) out[whole] = bytes[whole] & (0xff << (8 - rest));
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
  const bytes = Buffer.alloc(width);
  address.copy(bytes, 0, 0, Math.min(address.length, width));
  return { family: family === 1 ? 4 : 6, bytes: truncate(bytes, sourcePrefix), prefix: sourcePrefix };
}

/**
 * False for addresses that say nothing about where a client is: private, loopback, link-local, CGNAT, multicast
 * and unspecified (RFC 6890). A resolver on such an address, or an ECS option carrying one, gives no location.
 */
export function isRoutable(address: ClientAddress): boolean {
  const b = address.bytes;
  if (address.family === 4) {
    if (b[0] === 0 || b[0] === 10 || b[0] === 127 || b[0] >= 224) return false;
    if (b[0] === 169 && b[1] === 254) return false;
    if (b[0] === 172 && (b[1] & 0xf0) === 16) return false;
    if (b[0] === 192 && b[1] === 168) return false;
    if (b[0] === 100 && (b[1] & 0xc0) === 64) return false;
    return true;
  }
  if (b.every((x) => x === 0)) return false; // :: and ::1 differ only in the last bit
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return false;
  if ((b[0] & 0xfe) === 0xfc) return false; // fc00::/7 unique local
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return false; // fe80::/10 link-local
  if (b[0] === 0xff) return false; // multicast
  return true;
}

/** True when `address` lies inside the network `net`/`prefix` of the same family. */
export function inNetwork(address: ClientAddress, net: Buffer, prefix: number): boolean {
  if (net.length !== address.bytes.length || address.prefix < prefix) return false;
  return truncate(address.bytes, prefix).equals(truncate(net, prefix));
}
