// edgedns cluster join|leave|status|forget|conflicts: the replication mesh between this node's CouchDB and its peers.
// These talk to CouchDB directly (the same --couchdb / EDGEDNS_COUCHDB the node uses), so they work while the node
// itself is stopped.

import { listConflicts, NoSuchDocumentError, resolveConflict, UnknownRevisionError } from '../cluster/conflicts.js';
import { listContested, resolveContested } from '../zone/contested.js';
import { linkStatus, linkTable } from '../cluster/link-status.js';
import { join, leave } from '../cluster/replication.js';
import { FORGOTTEN_PREFIX, forgottenDocId, forgottenSince, HEALTH_PREFIX, healthDocId, isForgottenDoc, isHealthDoc } from '../geo/health-docs.js';
import { ConfigError, resolveConfig } from '../node/config.js';
import { CouchError, CouchUnavailableError, type CouchServer } from '../store/couch-http.js';
import { CouchStore } from '../store/couch-store.js';
import type { StoredDoc } from '../store/store.js';
import type { ParsedArgs } from './args.js';
import { UsageError, type CommandOptions } from './args.js';

export const CLUSTER_HELP = `Usage:
  edgedns cluster join PEER_COUCHDB_URL     replicate every edgedns database both ways with a peer (idempotent)
  edgedns cluster leave PEER_COUCHDB_URL    stop replicating with the peer (removes its _replicator documents)
  edgedns cluster status                    every replication that concerns this node, whichever node holds it:
                                            caught up, behind, stalled, crashing or unreachable, pending changes
  edgedns cluster forget NODE_ID            forget a node gone for good (after every node ran cluster leave for it):
                                            its health document goes, and copies of it still on their way no
                                            longer count, so no node waits for news from it
  edgedns cluster conflicts                 documents with losing revisions after concurrent edits
  edgedns cluster conflicts --resolve ID --keep REV   keep one revision of a conflicted document

Options:
  --couchdb URL     this node's CouchDB (EDGEDNS_COUCHDB; credentials in the URL or EDGEDNS_COUCHDB_USER/_PASSWORD)
  --db-prefix P     database name prefix (EDGEDNS_DB_PREFIX, default edgedns_)

PEER_COUCHDB_URL is how this node's CouchDB reaches the peer's (the server makes the requests), with credentials
if the peer needs them, e.g. http://admin:secret@10.0.0.2:5984.
`;

export const CLUSTER_OPTIONS: CommandOptions = {
  couchdb: { type: 'string' },
  'db-prefix': { type: 'string' },
  resolve: { type: 'string' },
  keep: { type: 'string' },
};

/** A failure the operator can act on (server unreachable, refused, unknown revision): printed without a stack. */
export class ClusterCommandError extends Error {}

export async function clusterCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  const [, sub, arg] = args.positionals;
  if (args.flags.help || !sub) {
    out.write(CLUSTER_HELP);
    return;
  }
  const config = resolveConfig({ couchdb: args.flags.couchdb, 'db-prefix': args.flags['db-prefix'] });
  if (!config.couchdb) throw new ConfigError('cluster commands need the node\'s CouchDB: --couchdb URL or EDGEDNS_COUCHDB');
  const store = new CouchStore({ ...config.couchdb, prefix: config.dbPrefix });
  const local = store.server;
  try {
    await run(sub, arg, args, out, store, local, config.dbPrefix);
  } catch (err) {
    if (err instanceof CouchError || err instanceof CouchUnavailableError || err instanceof UnknownRevisionError || err instanceof NoSuchDocumentError) {
      throw new ClusterCommandError(err.message);
    }
    throw err;
  } finally {
    await store.close();
  }
}

async function run(sub: string, arg: string | undefined, args: ParsedArgs, out: NodeJS.WritableStream, store: CouchStore, local: CouchServer, prefix: string): Promise<void> {
  switch (sub) {
    case 'join': {
      if (!arg) throw new UsageError('cluster join needs the PEER_COUCHDB_URL');
      const results = await join(local, arg, prefix, store.db);
      const created = results.filter((r) => r.created).length;
      for (const r of results) out.write(`${r.created ? 'created' : 'exists '}  ${r.direction.padEnd(4)}  ${r.db}\n`);
      out.write(`${created} replication(s) created, ${results.length - created} already there\n`);
      return;
    }
    case 'leave': {
      if (!arg) throw new UsageError('cluster leave needs the PEER_COUCHDB_URL');
      const removed = await leave(local, arg);
      for (const id of removed) out.write(`removed  ${id}\n`);
      out.write(removed.length === 0 ? 'no replication with that peer\n' : `${removed.length} replication(s) removed\n`);
      return;
    }
    case 'status': {
      const { self, rows } = await linkStatus(store, (await liveReports(store)) as Parameters<typeof linkStatus>[1]);
      if (rows.length === 0) {
        out.write(`no replication concerns ${self ?? 'this node'} (edgedns cluster join PEER_COUCHDB_URL)\n`);
        return;
      }
      for (const line of linkTable(rows)) out.write(`${line}\n`);
      const count = (state: string): number => rows.filter((r) => r.state === state).length;
      const states = ['caught-up', 'behind', 'stalled', 'crashing', 'unreachable', 'unknown'].filter((s) => count(s) > 0).map((s) => `${count(s)} ${s.replace('-', ' ')}`);
      out.write(`${rows.length} link(s) concern ${self ?? 'this node'}: ${states.join(', ')}\n`);
      return;
    }
    case 'forget': {
      if (!arg) throw new UsageError('cluster forget needs the NODE_ID of the node gone for good');
      const doc = await store.get(healthDocId(arg));
      const marker = await store.get(forgottenDocId(arg));
      // A copy of its document that arrived after an earlier forget is forgotten already.
      const forgotten = new Map(marker && isForgottenDoc(marker) ? [[marker.node, marker.forgottenAt]] : []);
      if (!doc?._rev || (isHealthDoc(doc) && forgottenSince(doc, forgotten))) {
        out.write(`no node ${arg} is known here\n`);
        return;
      }
      // The mark first: whatever happens to the deletion, a copy still on its way no longer counts.
      await store.put({ _id: forgottenDocId(arg), ...(marker?._rev ? { _rev: marker._rev } : {}), type: 'forgotten', node: arg, forgottenAt: Date.now() });
      await store.remove(doc._id, doc._rev);
      out.write(`forgot ${arg}: its health document is deleted here and, by replication, on every node; copies written before now no longer count (a node still running writes a newer one and is known again)\n`);
      return;
    }
    case 'conflicts': {
      const id = args.flags.resolve;
      if (id !== undefined) {
        const keep = args.flags.keep;
        if (typeof id !== 'string' || typeof keep !== 'string') throw new UsageError('cluster conflicts --resolve ID needs --keep REV');
        const result = (await resolveContested(store, id, keep)) ?? (await resolveConflict(store, id, keep));
        out.write(`kept ${keep} of ${id} (now ${result.rev}); removed ${result.removed.length} losing revision(s)\n`);
        return;
      }
      // The store's own conflicts, and RRsets carried inline that two sides changed apart (zone/contested.ts).
      const conflicts = [...(await listConflicts(store)), ...(await listContested(store))];
      if (conflicts.length === 0) {
        out.write('no conflicts\n');
        return;
      }
      for (const c of conflicts) {
        out.write(`${c.id}\n  winner ${c.winner.rev}  ${summary(c.winner.doc)}\n`);
        for (const loser of c.losers) out.write(`  loser  ${loser.rev}  ${summary(loser.doc)}\n`);
      }
      return;
    }
    default:
      throw new UsageError(`unknown cluster command "${sub}"\n\n${CLUSTER_HELP}`);
  }
}

/** One line of what a revision holds: records of an RRset, else its JSON (without the id). */
function summary(doc: Record<string, unknown>): string {
  if (Array.isArray(doc.records)) return `${String(doc.ttl ?? '')} ${doc.records.join(' | ')}`.trim();
  const { _id: _ignored, ...rest } = doc;
  const text = JSON.stringify(rest);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Every node's health document, but those written before their node was forgotten. */
async function liveReports(store: CouchStore): Promise<StoredDoc[]> {
  const forgotten = new Map((await store.list(FORGOTTEN_PREFIX)).filter(isForgottenDoc).map((d) => [d.node, d.forgottenAt]));
  return (await store.list(HEALTH_PREFIX)).filter((doc) => !(isHealthDoc(doc) && forgottenSince(doc, forgotten)));
}
