// acme-dns's `allowfrom`: the networks an update for a registration may come from. Checked when a registration is
// made (a bad entry is refused, naming it) and on every update (issue 12: it was stored and never enforced). An
// empty list allows any address, as in acme-dns. A stored entry that no longer parses matches nothing, so a list
// of such entries refuses every address rather than none.

import { BlockList, isIP } from 'node:net';
import { InvalidFieldError } from '../errors.js';

export const MAX_ALLOWFROM = 100;

/** "192.0.2.0/24", "2001:db8::/32", or one address (a /32 or /128): the canonical "address/prefix" form. */
export function parseNetwork(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const width = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(width) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > width) return undefined;
  return { address, prefix: Number(prefixText), family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The list as sent to /register, checked; entries keep their text with the prefix made explicit. */
export function parseAllowFrom(input: unknown, field = 'allowfrom'): string[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new InvalidFieldError(field, `${field} must be a list of networks such as "192.0.2.0/24"`);
  if (input.length > MAX_ALLOWFROM) throw new InvalidFieldError(field, `${field} has ${input.length} networks; at most ${MAX_ALLOWFROM}`);
  return input.map((entry: unknown, i) => {
    const network = typeof entry === 'string' ? parseNetwork(entry.trim()) : undefined;
    if (!network) throw new InvalidFieldError(`${field}.${i}`, `${field}.${i} ${JSON.stringify(entry)} is not a network such as "192.0.2.0/24" or "2001:db8::/48"`);
    return `${network.address}/${network.prefix}`;
  });
}

/** Whether `ip` (a client address as Node reports it) may update a registration with this allowfrom list. */
export function allowsAddress(allowfrom: readonly string[], ip: string): boolean {
  if (allowfrom.length === 0) return true;
  const list = new BlockList();
  for (const entry of allowfrom) {
    const network = parseNetwork(entry);
    if (network) list.addSubnet(network.address, network.prefix, network.family);
  }
  // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d; allowfrom lists it as a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return list.check(mapped[1] as string, 'ipv4') || list.check(ip, 'ipv6');
  return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}
