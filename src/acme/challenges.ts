// ACME DNS-01 challenge values. Each value is one record of the ordinary TXT RRset at its name, stored like any
// RRset (so every node serves it from its in-memory zone index, and it replicates), plus a per-value expiry kept
// on the same document under `acme`. Values are added and removed one at a time: an apex and its wildcard, or
// several pending orders, need several at once. Expired values are dropped by the next write and by the sweeper.

import { isInZone, nameKey, NameError } from '../proto/names.js';
import type { RRset } from '../zone/model.js';
import type { RRsetDoc } from '../zone/zone-docs.js';
import { updateRRsets, type RRsetWriteResult } from '../zone/zone-writer.js';
import type { Store } from '../store/store.js';
import { ChallengeInputError, ChallengeLimitError } from '../errors.js';

export interface ChallengeSettings {
  /** TTL of challenge TXT RRsets, seconds (short: a resolver must not keep an old value). */
  ttl: number;
  /** How long a value lives unless removed, milliseconds. */
  lifetimeMs: number;
}

export const DEFAULT_CHALLENGE_SETTINGS: ChallengeSettings = { ttl: 60, lifetimeMs: 3600_000 };

/** Field of the RRset document: value → expiry (ISO time). */
export const ACME_FIELD = 'acme';

/** What an ACME value may be: the base64url digest (43 chars) and anything else printable that fits a string. */
const VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

export function checkValue(value: unknown, field = 'value'): string {
  if (typeof value !== 'string' || !VALUE.test(value)) {
    throw new ChallengeInputError(`${field} must be 1-255 printable ASCII characters without spaces, quotes or backslashes`, field);
  }
  return value;
}

export function toFqdn(text: unknown, field: string): string {
  if (typeof text !== 'string' || text.length === 0) throw new ChallengeInputError(`${field} is required`, field);
  try {
    return nameKey(text.endsWith('.') ? text : text + '.');
  } catch (err) {
    if (err instanceof NameError) throw new ChallengeInputError(`${field} "${text}": ${err.message}`, field);
    throw err;
  }
}

/** "example.com" or "*.example.com" (the domain being validated) → "_acme-challenge.example.com." (RFC 8555 §8.4). */
export function challengeName(domain: unknown, field = 'domain'): string {
  const fqdn = toFqdn(typeof domain === 'string' ? domain.replace(/^\*\./, '') : domain, field);
  return fqdn.startsWith('_acme-challenge.') ? fqdn : `_acme-challenge.${fqdn}`;
}

/** The served zone a name belongs to: the longest zone apex that contains it. */
export function zoneFor(zoneNames: Iterable<string>, fqdn: string): string | undefined {
  let best: string | undefined;
  for (const zone of zoneNames) if (isInZone(fqdn, zone) && (best === undefined || zone.length > best.length)) best = zone;
  return best;
}

export function expiries(doc: RRsetDoc | undefined): Record<string, string> {
  const field = doc?.[ACME_FIELD];
  return field && typeof field === 'object' ? { ...(field as Record<string, string>) } : {};
}

const quoted = (value: string): string => `"${value}"`;

/** The TXT RRset at `fqdn` after dropping expired values and applying `change`; undefined when nothing is left. */
function plan(
  doc: RRsetDoc | undefined,
  fqdn: string,
  settings: ChallengeSettings,
  now: number,
  change: (records: Set<string>, expiry: Record<string, string>) => void,
): { rrset?: RRset; extra: Record<string, unknown> } {
  const expiry = expiries(doc);
  const records = new Set(doc?.records ?? []);
  for (const [value, at] of Object.entries(expiry)) {
    if (Date.parse(at) <= now) {
      records.delete(quoted(value));
      delete expiry[value];
    }
  }
  change(records, expiry);
  const extra = { [ACME_FIELD]: expiry };
  if (records.size === 0) return { extra };
  return { rrset: { name: fqdn, type: 'TXT', ttl: doc?.ttl ?? settings.ttl, records: [...records] }, extra };
}

/**
 * Values one name may hold at once. An order needs one per identifier at that name (a name and its wildcard: two),
 * and a few orders may overlap; 600 made the name unanswerable even over TCP and grew the store from 3 to 81 MB
 * (issue 12). Expired values are dropped before counting, so the oldest make room first.
 */
export const MAX_CHALLENGE_VALUES = 16;

export async function addChallenge(store: Store, zone: string, fqdn: string, value: string, settings: ChallengeSettings, now = Date.now()): Promise<RRsetWriteResult> {
  return updateRRsets(store, zone, (current) => {
    const doc = current.get(`${fqdn}/TXT`);
    const next = plan(doc, fqdn, settings, now, (records, expiry) => {
      if (!records.has(quoted(value)) && records.size >= MAX_CHALLENGE_VALUES) {
        const soonest = Object.values(expiry).sort()[0];
        throw new ChallengeLimitError(fqdn, MAX_CHALLENGE_VALUES, soonest);
      }
      records.add(quoted(value));
      expiry[value] = new Date(now + settings.lifetimeMs).toISOString();
    });
    return [{ name: fqdn, type: 'TXT', rrset: next.rrset, extra: next.extra }];
  }, 'value');
}

/** Removes one value; `removed` is false when it was not there (removing twice is not an error for hooks). */
export async function removeChallenge(store: Store, zone: string, fqdn: string, value: string, settings: ChallengeSettings, now = Date.now()): Promise<{ removed: boolean; result: RRsetWriteResult }> {
  let removed = false;
  const result = await updateRRsets(store, zone, (current) => {
    const doc = current.get(`${fqdn}/TXT`);
    removed = false;
    if (!doc) return [];
    const next = plan(doc, fqdn, settings, now, (records, expiry) => {
      removed = records.delete(quoted(value)) || removed;
      delete expiry[value];
    });
    if (!removed && Object.keys(expiries(doc)).length === Object.keys(next.extra[ACME_FIELD] as object).length) return [];
    return [{ name: fqdn, type: 'TXT', rrset: next.rrset, extra: next.extra }];
  }, 'value');
  return { removed, result };
}

/** Drops expired values of one RRset (the sweeper's job; any write to the name does it too). */
export async function dropExpired(store: Store, zone: string, fqdn: string, settings: ChallengeSettings, now = Date.now()): Promise<RRsetWriteResult> {
  return updateRRsets(store, zone, (current) => {
    const doc = current.get(`${fqdn}/TXT`);
    if (!doc) return [];
    const before = Object.keys(expiries(doc)).length;
    const next = plan(doc, fqdn, settings, now, () => undefined);
    if (Object.keys(next.extra[ACME_FIELD] as object).length === before) return [];
    return [{ name: fqdn, type: 'TXT', rrset: next.rrset, extra: next.extra }];
  });
}

export interface ActiveChallenge {
  zone: string;
  name: string;
  value: string;
  expiresAt: string;
}

/** Unexpired values held in memory (what the zone index serves), from the sync's documents. */
export function activeChallenges(docsByZone: Iterable<[string, RRsetDoc[]]>, now = Date.now()): ActiveChallenge[] {
  const out: ActiveChallenge[] = [];
  for (const [zone, docs] of docsByZone) {
    for (const doc of docs) {
      if (doc.rrtype !== 'TXT') continue;
      for (const [value, at] of Object.entries(expiries(doc))) {
        if (Date.parse(at) > now && doc.records.includes(quoted(value))) out.push({ zone, name: doc.name, value, expiresAt: at });
      }
    }
  }
  return out;
}
