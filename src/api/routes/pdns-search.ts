// PowerDNS's search-data and statistics, over what this node serves: search runs on the in-memory zone data (no
// store read), statistics are read from the node's own counters.

import type { PdnsRRsetView } from './pdns-views.js';

export interface SearchHit {
  object_type: 'zone' | 'record';
  name: string;
  zone_id: string;
  zone?: string;
  type?: string;
  ttl?: number;
  content?: string;
  disabled?: boolean;
}

/** PowerDNS's search pattern: `*` any run, `?` one character, the rest literal; the whole text must match. */
export function searchPattern(q: string): RegExp {
  const body = [...q].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 'i');
}

/** Hits in one zone: the zone itself by name, then each record whose owner name or content matches. */
export function searchZone(zone: string, zoneId: string, rrsets: PdnsRRsetView[], pattern: RegExp, kinds: { zones: boolean; records: boolean }, max: number, out: SearchHit[]): void {
  if (kinds.zones && out.length < max && pattern.test(zone)) out.push({ object_type: 'zone', name: zone, zone_id: zoneId });
  if (!kinds.records) return;
  for (const rrset of rrsets) {
    const nameMatches = pattern.test(rrset.name);
    for (const record of rrset.records) {
      if (out.length >= max) return;
      if (!nameMatches && !pattern.test(record.content)) continue;
      out.push({ object_type: 'record', name: rrset.name, type: rrset.type, ttl: rrset.ttl, content: record.content, disabled: false, zone: zone, zone_id: zoneId });
    }
  }
}

export interface StatisticItem {
  name: string;
  type: 'StatisticItem';
  value: string;
}

const QUERIES = /^edgedns_dns_queries_total\{([^}]*)\}\s+(\S+)/;

/**
 * PowerDNS statistics from the node's Prometheus text (every answering process's counters): queries by transport,
 * SERVFAIL answers, uptime. The names are PowerDNS's, so its dashboards' queries find them.
 */
export function statistics(metricsText: string, uptimeSeconds: number): StatisticItem[] {
  const totals = { udp: 0, tcp: 0, servfail: 0 };
  for (const line of metricsText.split('\n')) {
    const m = QUERIES.exec(line);
    if (!m) continue;
    const labels = m[1] as string;
    const value = Number(m[2]);
    if (!Number.isFinite(value)) continue;
    if (labels.includes('transport="udp"')) totals.udp += value;
    if (labels.includes('transport="tcp"')) totals.tcp += value;
    if (labels.includes('rcode="SERVFAIL"')) totals.servfail += value;
  }
  const item = (name: string, value: number): StatisticItem => ({ name, type: 'StatisticItem', value: String(value) });
  return [item('servfail-packets', totals.servfail), item('tcp-queries', totals.tcp), item('udp-queries', totals.udp), item('uptime', uptimeSeconds)];
}
