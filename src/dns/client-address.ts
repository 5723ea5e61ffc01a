// Client addresses as the DNS transports see them ("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"), parsed without
// allocating into one reusable scratch object: response rate limiting reads the address of every UDP answer, so
// this is on the hot path. Also networks (CIDR) and the membership test for allow lists.

export class ClientAddress {
  /** 4 or 6 after a successful parse (IPv4-mapped IPv6 counts as 4); 0 after a failed one. */
  family: 0 | 4 | 6 = 0;
  /** The IPv4 address as an unsigned 32-bit number. */
  v4 = 0;
  /** The IPv6 address as eight 16-bit groups. */
  readonly v6 = new Uint16Array(8);
  private readonly tail = new Uint16Array(8);

  /** Parses `text`; false (and family 0) when it is not an address. */
  parse(text: string): boolean {
    this.family = 0;
    if (text.indexOf(':') < 0) {
      const v4 = parseIPv4(text, 0);
      if (v4 < 0) return false;
      this.v4 = v4;
      this.family = 4;
      return true;
    }
    if (!this.parseIPv6(text)) return false;
    const w = this.v6;
    if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
      this.v4 = ((w[6] << 16) | w[7]) >>> 0;
      this.family = 4;
    } else this.family = 6;
    return true;
  }

  private parseIPv6(text: string): boolean {
    const words = this.v6;
    const tail = this.tail;
    const n = text.length;
    let head = 0;
    let after = 0;
    let compressed = false;
    let i = 0;
    if (text.charCodeAt(0) === 58 /* : */) {
      if (text.charCodeAt(1) !== 58) return false;
      compressed = true;
      i = 2;
    }
    while (i < n) {
      const start = i;
      let value = 0;
      let digits = 0;
      for (; i < n; i++) {
        const h = hexValue(text.charCodeAt(i));
        if (h < 0) break;
        value = value * 16 + h;
        if (++digits > 4) return false;
      }
      if (i < n && text.charCodeAt(i) === 46 /* . */) {
        // a trailing dotted quad: the last two groups
        const v4 = parseIPv4(text, start);
        if (v4 < 0 || head + after > 6) return false;
        if (compressed) {
          tail[after++] = v4 >>> 16;
          tail[after++] = v4 & 0xffff;
        } else {
          words[head++] = v4 >>> 16;
          words[head++] = v4 & 0xffff;
        }
        i = n;
        break;
      }
      if (digits === 0 || head + after >= 8) return false;
      if (compressed) tail[after++] = value;
      else words[head++] = value;
      if (i === n) break;
      if (text.charCodeAt(i) !== 58) return false;
      i++;
      if (text.charCodeAt(i) === 58) {
        if (compressed) return false;
        compressed = true;
        i++;
      } else if (i === n) return false;
    }
    if (compressed ? head + after > 7 : head !== 8) return false;
    if (compressed) {
      for (let g = head; g < 8 - after; g++) words[g] = 0;
      for (let g = 0; g < after; g++) words[8 - after + g] = tail[g];
    }
    return true;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** A dotted quad from `start` to the end of `text` as an unsigned number; -1 when it is not one. */
function parseIPv4(text: string, start: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

/** A network such as 192.0.2.0/24 or 2001:db8::/32. */
export interface Network {
  family: 4 | 6;
  prefix: number;
  v4: number;
  v6: Uint16Array;
  text: string;
}

export class NetworkError extends Error {}

/** Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (a /32 or /128). */
export function parseNetwork(text: string): Network {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = new ClientAddress();
  if (!address.parse(slash < 0 ? trimmed : trimmed.slice(0, slash)) || address.family === 0) throw new NetworkError(`"${text}" is not an IP address or network`);
  // an IPv4-mapped network is written as IPv6 but matched as IPv4
  const mappedV6 = slash >= 0 && address.family === 4 && trimmed.indexOf(':') >= 0;
  const width = address.family === 4 ? 32 : 128;
  let prefix = width;
  if (slash >= 0) {
    const bits = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits)) throw new NetworkError(`"${text}": prefix length "${bits}" is not a number`);
    prefix = Number(bits) - (mappedV6 ? 96 : 0);
    if (prefix < 0 || prefix > width) throw new NetworkError(`"${text}": prefix length ${bits} is out of range`);
  }
  const network: Network = { family: address.family, prefix, v4: 0, v6: new Uint16Array(8), text: trimmed };
  if (address.family === 4) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((address.v4 & mask) >>> 0 !== address.v4) throw new NetworkError(`"${text}" has bits set past its prefix length`);
    network.v4 = address.v4;
  } else {
    for (let g = 0; g < 8; g++) {
      const keep = Math.max(0, Math.min(16, prefix - g * 16));
      const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
      if ((address.v6[g] & mask) !== address.v6[g]) throw new NetworkError(`"${text}" has bits set past its prefix length`);
      network.v6[g] = address.v6[g];
    }
  }
  return network;
}

export function contains(network: Network, address: ClientAddress): boolean {
  if (network.family !== address.family) return false;
  const prefix = network.prefix;
  if (network.family === 4) {
    if (prefix === 0) return true;
    const mask = (0xffffffff << (32 - prefix)) >>> 0;
    return (address.v4 & mask) >>> 0 === network.v4;
  }
  for (let g = 0; g < 8; g++) {
    const keep = prefix - g * 16;
    if (keep <= 0) return true;
    const mask = keep >= 16 ? 0xffff : (0xffff << (16 - keep)) & 0xffff;
    if ((address.v6[g] & mask) !== network.v6[g]) return false;
  }
  return true;
}

/** "192.0.2.7" for IPv4, the /64 ("2001:db8:0:1::/64") for IPv6: one end site, for per-client TCP accounting. */
export function endSiteKey(address: ClientAddress): string {
  if (address.family === 4) return `${address.v4 >>> 24}.${(address.v4 >>> 16) & 255}.${(address.v4 >>> 8) & 255}.${address.v4 & 255}`;
  const w = address.v6;
  return `${w[0].toString(16)}:${w[1].toString(16)}:${w[2].toString(16)}:${w[3].toString(16)}::/64`;
}
