// A Zone as a BIND-style master file (RFC 1035 §5) that parseZoneFile, knot and BIND all read back.
// Owners are written relative to $ORIGIN and left blank when they repeat the previous line's; every record gets
// its TTL and class so nothing depends on $TTL. Rdata is the stored canonical text: names in it stay absolute.

import type { Zone } from './model.js';
import { isInZone } from '../proto/names.js';
import { rrTypeCode, rrTypeMnemonic } from '../proto/rdata.js';
import { sortRRsets } from './zonefile-order.js';

const MAX_OWNER_COLUMN = 40;

function relativeOwner(name: string, apex: string): string {
  if (name === apex) return '@';
  // Under the root zone "com." relative to "." gains nothing; outside the zone (an invalid zone) stay absolute.
  if (apex === '.' || !isInZone(name, apex)) return name;
  return name.slice(0, name.length - apex.length - 1);
}

export function writeZoneFile(zone: Zone): string {
  const rrsets = sortRRsets(zone.rrsets).filter((r) => r.records.length > 0 || r.pool !== undefined);
  const owners = rrsets.map((r) => relativeOwner(r.name, zone.name));
  const width = Math.min(MAX_OWNER_COLUMN, Math.max(1, ...owners.map((o) => o.length)));
  const lines = [`$ORIGIN ${zone.name}`];
  let previous: string | undefined;
  const pairedA = new Set<number>();
  const pairedAAAA = new Set<number>();
  rrsets.forEach((a, i) => {
    if (a.pool === undefined || a.type !== 'A') return;
    const j = rrsets.findIndex((b) => b.name === a.name && b.type === 'AAAA' && b.pool === a.pool && b.ttl === a.ttl);
    if (j >= 0) {
      pairedA.add(i);
      pairedAAAA.add(j);
    }
  });
  rrsets.forEach((rrset, i) => {
    if (rrset.pool !== undefined) {
      // Dynamic RRsets in edgedns's dialect: one POOL line when A and AAAA name the same pool with the same TTL.
      if (pairedAAAA.has(i)) return;
      const owner = rrset.name === previous ? '' : owners[i];
      previous = rrset.name;
      lines.push(`${owner.padEnd(width)} ${String(rrset.ttl).padStart(6)} IN ${'POOL'.padEnd(5)} ${rrset.pool}${pairedA.has(i) ? '' : ' ' + rrset.type}`);
      return;
    }
    const code = rrTypeCode(rrset.type);
    const type = code === undefined ? rrset.type : rrTypeMnemonic(code);
    for (const record of rrset.records) {
      const owner = rrset.name === previous ? '' : owners[i];
      previous = rrset.name;
      lines.push(`${owner.padEnd(width)} ${String(rrset.ttl).padStart(6)} IN ${type.padEnd(5)} ${record}`);
    }
  });
  return lines.join('\n') + '\n';
}
