// PowerDNS zone ids: the zone name with its trailing dot, "/" written "=2F" (and any other octet as =XX), so an
// id is safe in a URL path. Clients may send the id with or without the trailing dot.

import { nameKey } from '../../proto/names.js';
import { nameParam } from '../name-param.js';

export function pdnsZoneId(zone: string): string {
  return zone.replace(/[=/]/g, (c) => '=' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** The zone an id names; a 400 naming `field` (the URL's zone_id, or the body's name) when it is not a name. */
export function zoneFromId(id: string, field = 'zone_id'): string {
  const text = id.replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return nameParam(field, `zone id "${id}"`, () => nameKey(text.endsWith('.') ? text : text + '.'));
}
