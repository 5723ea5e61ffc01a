// Key scopes: "admin" (everything), "zone:NAME" (one zone's RRsets and challenges), "acme:NAME" (only TXT values at
// _acme-challenge.NAME and at _acme-challenge.<sub>.NAME: the narrow credential acme-dns is liked for), "site:HOST"
// (deploys, previews and rollback of one pages site; nothing in DNS).

import { isInZone, nameKey, NameError } from '../proto/names.js';
import { ScopeError } from '../errors.js';

export type Scope = { kind: 'admin' } | { kind: 'zone'; name: string } | { kind: 'acme'; name: string } | { kind: 'site'; name: string };

export function parseScope(text: string): Scope {
  if (text === 'admin') return { kind: 'admin' };
  const m = /^(zone|acme|site):(.+)$/.exec(text);
  if (!m) throw new ScopeError(`scope "${text}" is not admin, zone:NAME, acme:NAME or site:HOST`);
  let name: string;
  try {
    name = nameKey(m[2].endsWith('.') ? m[2] : m[2] + '.');
  } catch (err) {
    if (err instanceof NameError) throw new ScopeError(`scope "${text}": ${err.message}`);
    throw err;
  }
  if (name === '.') throw new ScopeError(`scope "${text}" names the root; use admin`);
  return { kind: m[1] as 'zone' | 'acme' | 'site', name };
}

export function formatScope(scope: Scope): string {
  return scope.kind === 'admin' ? 'admin' : `${scope.kind}:${scope.name.replace(/\.$/, '')}`;
}

/** A stored scope string that no longer parses grants nothing. */
export function scopeOf(text: string): Scope | undefined {
  try {
    return parseScope(text);
  } catch {
    return undefined;
  }
}

/** May this scope read and write every RRset of `zone`? */
export function allowsZone(scope: Scope | undefined, zone: string): boolean {
  if (!scope) return false;
  return scope.kind === 'admin' || (scope.kind === 'zone' && scope.name === zone);
}

/**
 * The apex of another served zone that `name` (of `zone`) is at or below, if any: a child zone served on its own,
 * perhaps by another customer. Data written there into `zone` is shadowed while the child is served and turns up
 * if the child is removed, so a zone: key may not write it (issue 12).
 */
export function childZoneAt(name: string, zone: string, served: Iterable<string>): string | undefined {
  for (const other of served) if (other !== zone && isInZone(other, zone) && isInZone(name, other)) return other;
  return undefined;
}

/** May this scope write the RRsets at `name` in `zone`? An admin may; a zone: key of `zone` may, outside child zones. */
export function allowsZoneWrite(scope: Scope | undefined, zone: string, name: string, served: Iterable<string>): boolean {
  if (!allowsZone(scope, zone)) return false;
  return scope?.kind === 'admin' || childZoneAt(name, zone, served) === undefined;
}

/**
 * May this scope add or remove challenge TXT values at `fqdn` (a name key)? acme:NAME allows
 * _acme-challenge.NAME and _acme-challenge.X.NAME (a subdomain's or a wildcard's own challenge name). `zone` is the
 * served zone that holds `fqdn` (the longest that contains it), so a zone: key stops at a child zone's apex.
 */
export function allowsChallenge(scope: Scope | undefined, fqdn: string, zone: string | undefined): boolean {
  if (!scope) return false;
  if (scope.kind === 'admin') return true;
  if (scope.kind === 'zone') return zone !== undefined && scope.name === zone && isInZone(fqdn, zone);
  if (scope.kind === 'site') return false;
  if (!fqdn.startsWith('_acme-challenge.')) return false;
  return isInZone(fqdn.slice('_acme-challenge.'.length), scope.name);
}
