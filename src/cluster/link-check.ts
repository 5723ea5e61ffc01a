// How far one replication link (a database replicated from a source server to a target server) is behind, measured
// on the databases themselves, so it works the same on CouchDB 3 and on pouchdb-server and never compares sequence
// values (they are opaque): the newest changes of the source are asked from its changes feed, and the target is asked
// which of those revisions it lacks (_revs_diff). What the target lacks is what replication still has to bring.

import { CouchError, CouchUnavailableError, type CouchServer } from '../store/couch-http.js';

/** Changes at the head of the source looked at per check; a link further behind shows as this many pending. */
export const HEAD_CHANGES = 100;

export type EndState = 'ok' | 'unreachable' | 'error';

export interface LinkReading {
  source: EndState;
  target: EndState;
  /** The source database's update sequence (opaque: only compared for equality with an earlier reading). */
  sourceSeq?: string;
  /** Revisions at the head of the source that the target lacks, oldest first, as "id rev". */
  missing: string[];
  /** One line: why an end could not be read. */
  error?: string;
}

/**
 * A check gives up on a server that has not answered by then: a stalled link must not stall the watchdog, and a
 * peer behind a network that drops packets never answers at all (every read of a round has a timeout).
 */
export const READ_TIMEOUT_MS = 5_000;

export interface RoundReadOptions {
  /** How long a read may take before its server counts as not answering (ms; default READ_TIMEOUT_MS). */
  timeoutMs?: number;
  /**
   * Servers (public URLs) whose last read found them not answering, kept across rounds by the caller, and how long
   * their reads may take instead. After a network dropped packets, the first request to a server that is back may
   * go out on a pooled keep-alive connection that the network has silently lost, and wait out its whole timeout:
   * a shorter one for a server already in doubt sees it back that much sooner, and costs nothing while it is away.
   */
  inDoubt?: Set<string>;
  inDoubtTimeoutMs?: number;
}

/** Reads shared by every link checked in one round: each database's info and head once per round. */
export class RoundReads {
  private readonly timeoutMs: number;
  private readonly inDoubt: Set<string>;
  private readonly inDoubtTimeoutMs: number;
  private readonly infos = new Map<string, Promise<{ seq: string }>>();
  private readonly heads = new Map<string, Promise<{ id: string; rev: string }[]>>();

  constructor(options: RoundReadOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
    this.inDoubt = options.inDoubt ?? new Set();
    this.inDoubtTimeoutMs = Math.min(this.timeoutMs, options.inDoubtTimeoutMs ?? this.timeoutMs);
  }

  /** The signal of one read of `server`. */
  signal(server: CouchServer): AbortSignal {
    return AbortSignal.timeout(this.inDoubt.has(server.publicUrl) ? this.inDoubtTimeoutMs : this.timeoutMs);
  }

  info(server: CouchServer, db: string): Promise<{ seq: string }> {
    const key = `${server.publicUrl}${db}`;
    let pending = this.infos.get(key);
    if (!pending) {
      pending = server.request<{ update_seq: string | number }>({ db, signal: this.signal(server) }).then((info) => ({ seq: String(info.update_seq) }));
      this.infos.set(key, pending);
      // The first read of each server in a round says whether it answers: it decides the next round's wait.
      pending.then(
        () => this.inDoubt.delete(server.publicUrl),
        (err: unknown) => {
          if (unanswered(err)) this.inDoubt.add(server.publicUrl);
        },
      );
    }
    return pending;
  }

  head(server: CouchServer, db: string): Promise<{ id: string; rev: string }[]> {
    const key = `${server.publicUrl}${db}`;
    let pending = this.heads.get(key);
    if (!pending) {
      pending = server
        .request<{ results?: { id: string; changes?: { rev: string }[] }[] }>({
          db,
          path: '_changes',
          qs: { descending: true, limit: HEAD_CHANGES },
          signal: this.signal(server),
        })
        .then((answer) => (answer.results ?? []).flatMap((c) => (c.changes?.[0]?.rev ? [{ id: c.id, rev: c.changes[0].rev }] : [])).reverse());
      this.heads.set(key, pending);
    }
    return pending;
  }
}

/** Whether both ends of a link answer, and the source's update sequence: one cheap request per server and round. */
export async function readEnds(reads: RoundReads, source: CouchServer, target: CouchServer, db: string): Promise<LinkReading> {
  const [sourceInfo, targetInfo] = await Promise.allSettled([reads.info(source, db), reads.info(target, db)]);
  const reading: LinkReading = { source: endState(sourceInfo), target: endState(targetInfo), missing: [] };
  const errors = [sourceInfo, targetInfo].flatMap((r, i) => (r.status === 'rejected' ? [`${i === 0 ? 'source' : 'target'} ${oneLine(r.reason)}`] : []));
  if (errors.length > 0) reading.error = errors.join('; ');
  if (sourceInfo.status === 'fulfilled') reading.sourceSeq = sourceInfo.value.seq;
  return reading;
}

/** Fills in what the target lacks of the source's newest changes (the head and a _revs_diff). */
export async function readMissing(reads: RoundReads, source: CouchServer, target: CouchServer, db: string, reading: LinkReading): Promise<LinkReading> {
  try {
    const head = await reads.head(source, db);
    if (head.length === 0) return reading;
    const body: Record<string, string[]> = {};
    for (const { id, rev } of head) (body[id] ??= []).push(rev);
    const diff = await target.request<Record<string, { missing?: string[] }>>({ db, method: 'POST', path: '_revs_diff', body, signal: reads.signal(target) });
    reading.missing = head.filter(({ id, rev }) => diff[id]?.missing?.includes(rev)).map(({ id, rev }) => `${id} ${rev}`);
  } catch (err) {
    reading.error = oneLine(err);
    reading.target = unanswered(err) ? 'unreachable' : 'error';
  }
  return reading;
}

/** Reads one link whole: both ends, and what the target lacks. */
export async function readLink(reads: RoundReads, source: CouchServer, target: CouchServer, db: string): Promise<LinkReading> {
  const reading = await readEnds(reads, source, target, db);
  if (reading.source !== 'ok' || reading.target !== 'ok') return reading;
  return readMissing(reads, source, target, db, reading);
}

function endState(result: PromiseSettledResult<unknown>): EndState {
  if (result.status === 'fulfilled') return 'ok';
  return unanswered(result.reason) ? 'unreachable' : 'error';
}

/** The server did not answer (refused, reset, timed out), as opposed to answering with an error. */
function unanswered(err: unknown): boolean {
  return err instanceof CouchUnavailableError || isTimeout(err);
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** An error as one short line: CouchDB's "replication_auth_error" for a peer that is down must not read like a password problem. */
export function oneLine(err: unknown): string {
  if (err instanceof CouchError) return `${err.status} ${err.error}`;
  if (err instanceof CouchUnavailableError) return 'unreachable';
  if (isTimeout(err)) return 'no answer in time';
  return String((err as Error)?.message ?? err).split('\n')[0].slice(0, 80);
}
