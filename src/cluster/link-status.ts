// Every replication link that concerns one node, whichever node holds it, as `cluster status` shows them: the links
// its own CouchDB holds are checked now (link-check.ts), with what its running watchdog last reported (restarts,
// stalls); the links peers hold towards it come from their health documents, which replicate here.

import type { CouchServer } from '../store/couch-http.js';
import type { CouchStore } from '../store/couch-store.js';
import { readLink, RoundReads, oneLine } from './link-check.js';
import { isLinkReport, type LinkReport, type LinkState } from './link-report.js';
import { readIdentity } from './node-identity.js';
import { ourDocs, parseId, schedulerDocs, serverOfDbUrl } from './replication.js';

export interface LinkRow extends LinkReport {
  /** Age of the report this row comes from (ms), for links a peer holds; undefined for links checked now. */
  reportAgeMs?: number;
}

/**
 * The node id of this CouchDB's database, and every link that concerns it. `reports` are the nodes' health documents
 * (geo/health-docs.ts writes them; the geo layer sits above this one, so the caller reads them).
 */
export async function linkStatus(store: CouchStore, reports: { node?: unknown; updatedAt?: unknown; links?: unknown }[]): Promise<{ self: string | undefined; rows: LinkRow[] }> {
  const local = store.server;
  const self = await readIdentity(local, store.db);
  const name = self ?? 'this node';
  const reads = new RoundReads();
  const scheduler = await schedulerDocs(local).catch(() => undefined);
  const own = reports.find((r) => r.node === self);
  const ownLinks = new Map((Array.isArray(own?.links) ? own.links.filter(isLinkReport) : []).map((l) => [l.id, l]));
  const peerIds = new Map<string, Promise<string | undefined>>();
  const peerId = (peer: string, server: CouchServer): Promise<string | undefined> => {
    let id = peerIds.get(peer);
    if (!id) {
      id = readIdentity(server, store.db, reads.signal(server)).catch(() => undefined);
      peerIds.set(peer, id);
    }
    return id;
  };

  const rows: LinkRow[] = [];
  const now = Date.now();
  for (const doc of await ourDocs(local)) {
    const where = parseId(doc._id);
    if (!where || typeof doc.source !== 'string' || typeof doc.target !== 'string') continue;
    const source = serverOfDbUrl(doc.source, where.db);
    const target = serverOfDbUrl(doc.target, where.db);
    const peer = (await peerId(where.peer, where.direction === 'push' ? target : source)) ?? where.peer;
    const reading = await readLink(reads, source, target, where.db);
    const reported = ownLinks.get(doc._id);
    let state: LinkState = reading.source !== 'ok' || reading.target !== 'ok' ? 'unreachable' : reading.missing.length === 0 ? 'caught-up' : 'behind';
    const scheduled = scheduler?.get(doc._id)?.state;
    if (scheduled && ['crashing', 'error', 'failed'].includes(scheduled)) state = 'crashing';
    // The running watchdog has seen it longer than this one look: a link behind that it calls stalled is stalled.
    if (state === 'behind' && reported?.state === 'stalled') state = 'stalled';
    const row: LinkRow = {
      id: doc._id,
      db: where.db,
      direction: where.direction,
      from: where.direction === 'push' ? name : peer,
      to: where.direction === 'push' ? peer : name,
      holder: name,
      state,
      pending: reading.missing.length,
      lastProgressAt: state === 'caught-up' ? now : (reported?.lastProgressAt ?? now),
      restarts: reported?.restarts ?? 0,
    };
    const error = reading.error ?? (scheduled && state === 'crashing' ? `scheduler: ${scheduled}` : undefined);
    if (error) row.error = error;
    rows.push(row);
  }
  if (self) {
    for (const report of reports) {
      if (report.node === self || typeof report.node !== 'string' || !Array.isArray(report.links)) continue;
      const age = typeof report.updatedAt === 'number' ? Math.max(0, now - report.updatedAt) : undefined;
      for (const link of report.links.filter(isLinkReport)) {
        if (link.from !== self && link.to !== self) continue;
        rows.push({ ...link, ...(age !== undefined ? { reportAgeMs: age } : {}) });
      }
    }
  }
  rows.sort((a, b) => a.holder.localeCompare(b.holder) || a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.db.localeCompare(b.db));
  return { self, rows };
}

/** The table `cluster status` prints: one line per link, at most `width` columns. */
export function linkTable(rows: LinkRow[], width = 120, now = Date.now()): string[] {
  const head = ['FROM', 'TO', 'DATABASE', 'HELD BY', 'STATE', 'PENDING', 'PROGRESS', 'RESTARTS', 'NOTE'];
  // Long node names are cut, so the note (report age, error) keeps room in 120 columns.
  const max = [12, 12, 14, 12, 11, 7, 9, 8, Number.POSITIVE_INFINITY];
  const cells = rows.map((r) => [
    r.from,
    r.to,
    r.db,
    r.holder,
    r.state.replace('-', ' '),
    r.pending >= 100 ? '100+' : String(r.pending),
    r.state === 'caught-up' ? 'now' : `${ago(now - r.lastProgressAt)} ago`,
    String(r.restarts),
    [r.reportAgeMs !== undefined ? `report ${ago(r.reportAgeMs)} old` : '', r.error ? oneLine(r.error) : ''].filter((s) => s).join('; '),
  ]);
  const widths = head.map((h, i) => Math.min(max[i], Math.max(h.length, ...cells.map((c) => c[i].length))));
  const used = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  widths[widths.length - 1] = Math.max(4, Math.min(widths[widths.length - 1], width - used));
  const line = (row: string[]): string => row.map((c, i) => fit(c, widths[i]).padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), ...cells.map(line)];
}

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}
