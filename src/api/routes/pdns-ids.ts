// PowerDNS zone ids: the zone name with its trailing dot, "/" written "=2F" (and any other octet as =XX), so an
// id is safe in a URL path. Clients may send the id with or without the trailing dot.

import { nameKey, NameError } from '../../proto/names.js';
import { ApiError } from '../errors.js';

export function pdnsZoneId(zone: string): string {
  return zone.replace(/[=/]/g, (c) => '=' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

export function zoneFromId(id: string): string {
  const text = id.replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  try {
    return nameKey(text.endsWith('.') ? text : text + '.');
  } catch (err) {
    if (err instanceof NameError) throw new ApiError('bad_request', `zone id "${id}": ${err.message}`, 'zone_id');
    throw err;
  }
}
