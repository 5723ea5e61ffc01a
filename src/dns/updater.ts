// RFC 2136 dynamic updates, signed with TSIG (RFC 8945). Not the query hot path: an update awaits the store (the
// key, the zone's RRsets, the write) and the socket servers go on answering queries meanwhile. The order of checks
// follows the RFCs: the message's form (FORMERR), its signature (unsigned: REFUSED; unknown key, bad MAC, bad
// time: NOTAUTH with the TSIG error, §5.2), the zone (NOTAUTH when not served here), the key's scope (REFUSED),
// the prescans (FORMERR, NOTZONE), then prerequisites and updates as one atomic write through the zone writer,
// validated like an API write (a zone the update would break: REFUSED) and audited like one. Every response to a
// request whose key is known is signed with it (§5.3).

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { Class, Rcode, rcodeName } from '../proto/constants.js';
import { readUpdate, type TsigRecordAt, type UpdateMessage } from '../proto/update-reader.js';
import { signResponse, TsigError, unsignedTsig, verifyRequest, type TsigErrorCode } from '../proto/tsig.js';
import { allowsChallenge, allowsZone, scopeOf, type Scope } from '../keys/scopes.js';
import { findTsigKey, plainSecrets, type SecretBox, type TsigKey } from '../keys/tsig-keys.js';
import { auditLine } from '../keys/audit-line.js';
import type { Store } from '../store/store.js';
import type { Catalog } from '../zone/catalog.js';
import { planUpdate, prescanPrerequisites, prescanUpdates, UpdateFailure, type CheckedRecord } from '../zone/dynamic-update.js';
import { updateRRsets } from '../zone/zone-writer.js';
import { ZoneNotFoundError, ZoneValidationError } from '../errors.js';
import type { Transport } from './metrics.js';
import { updateResponse, type UpdateHead } from './update-response.js';

export type Updater = (message: Buffer, transport: Transport, remote?: string) => Promise<Buffer | undefined>;

export interface UpdaterOptions {
  store: Store;
  catalog: Catalog;
  logger: Logger;
  registry: Registry;
  /** Opens stored TSIG secrets (keys/tsig-keys.ts). */
  secrets?: SecretBox;
  /** Resolves once the processes answering here serve `serial` of `zone`, so a client's next query sees it. */
  waitServed?: (zone: string, serial: number) => Promise<unknown>;
  /** Seconds since the epoch (tests move the clock). */
  now?: () => number;
  /** Updates in progress at once; more are REFUSED at once, so a flood cannot queue store reads without bound. */
  maxPending?: number;
}

const DEFAULT_MAX_PENDING = 64;

class UpdateMetrics {
  readonly updates: Counter<'rcode'>;
  readonly tsig: Counter<'error'>;
  readonly shed: Counter;

  constructor(registry: Registry) {
    this.updates = new Counter({ name: 'edgedns_dns_updates_total', help: 'RFC 2136 UPDATE messages answered, by response code', labelNames: ['rcode'], registers: [registry] });
    this.tsig = new Counter({ name: 'edgedns_dns_update_auth_failures_total', help: 'UPDATE messages refused for their signature: unsigned, BADKEY, BADSIG, BADTIME, BADTRUNC', labelNames: ['error'], registers: [registry] });
    this.shed = new Counter({ name: 'edgedns_dns_updates_shed_total', help: 'UPDATE messages refused because too many were in progress', registers: [registry] });
  }
}

const TSIG_ERROR_NAMES: Record<number, string> = { [TsigError.BADSIG]: 'BADSIG', [TsigError.BADKEY]: 'BADKEY', [TsigError.BADTIME]: 'BADTIME', [TsigError.BADTRUNC]: 'BADTRUNC' };

/** May this key's scope make these changes? An acme: key: only TXT at its challenge names, nothing wider. */
function scopeAllows(scope: Scope | undefined, zone: string, prerequisites: CheckedRecord[], updates: CheckedRecord[]): boolean {
  if (allowsZone(scope, zone)) return true;
  if (scope?.kind !== 'acme') return false;
  const challenge = (r: CheckedRecord): boolean => allowsChallenge(scope, r.name, zone);
  return prerequisites.every(challenge) && updates.every((u) => challenge(u) && u.type === 'TXT');
}

export function createUpdater(options: UpdaterOptions): Updater {
  const { store, catalog, logger } = options;
  const box = options.secrets ?? plainSecrets;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const metrics = new UpdateMetrics(options.registry);
  let pending = 0;

  const answer = (response: Buffer, rcode: number): Buffer => {
    metrics.updates.labels(rcodeName(rcode)).inc();
    return response;
  };
  const authFailure = (error: string): void => {
    metrics.tsig.labels(error).inc();
  };

  async function handle(message: Buffer, remote: string | undefined): Promise<Buffer> {
    const read = readUpdate(message);
    if ('error' in read) {
      const { error } = read;
      logger.debug({ client: remote, reason: error.reason }, 'malformed UPDATE');
      return answer(updateResponse(message, { id: error.id, zoneEnd: error.zoneEnd, edns: false }, error.rcode), error.rcode);
    }
    const u = read.update;
    const head: UpdateHead = { id: u.id, zoneEnd: u.zoneEnd, edns: u.edns !== undefined };
    const plain = (rcode: number): Buffer => answer(updateResponse(message, head, rcode), rcode);
    if (!u.tsig) {
      authFailure('unsigned');
      logger.info({ client: remote, zone: u.zone }, 'UPDATE refused: not signed with a TSIG key');
      return plain(Rcode.REFUSED);
    }
    const tsig: TsigRecordAt = u.tsig;
    const key = await findTsigKey(store, tsig.keyName, box);
    const refuseSignature = (error: TsigErrorCode, signWith?: TsigKey): Buffer => {
      authFailure(TSIG_ERROR_NAMES[error] ?? String(error));
      logger.info({ client: remote, zone: u.zone, tsigKey: tsig.keyName, tsigError: TSIG_ERROR_NAMES[error] }, 'UPDATE refused: TSIG check failed');
      const response = updateResponse(message, head, Rcode.NOTAUTH);
      // RFC 8945 §5.2: BADKEY and BADSIG answers are unsigned; a BADTIME answer is signed (§5.2.3)
      const out = signWith ? signResponse(response, signWith.secret, { request: tsig, error, now: now() }) : unsignedTsig(response, tsig, error);
      return answer(out, Rcode.NOTAUTH);
    };
    if (!key || key.algorithm !== tsig.algorithm) return refuseSignature(TsigError.BADKEY);
    const verified = verifyRequest(message, tsig, key.secret, now());
    if (verified === TsigError.BADTIME) return refuseSignature(TsigError.BADTIME, key);
    if (verified !== TsigError.NOERROR) return refuseSignature(verified);

    const signed = (rcode: number): Buffer => answer(signResponse(updateResponse(message, head, rcode), key.secret, { request: tsig, error: TsigError.NOERROR, now: now() }), rcode);
    const refuse = (rcode: number, reason: string): Buffer => {
      logger.info({ client: remote, zone: u.zone, tsigKey: key.name, rcode: rcodeName(rcode), reason }, 'UPDATE refused');
      return signed(rcode);
    };
    try {
      return await apply(u, key, remote, signed, refuse);
    } catch (err) {
      if (err instanceof UpdateFailure) return refuse(err.rcode, err.message);
      if (err instanceof ZoneValidationError) return refuse(Rcode.REFUSED, err.message);
      if (err instanceof ZoneNotFoundError) return refuse(Rcode.NOTAUTH, err.message);
      logger.error({ err, client: remote, zone: u.zone }, 'internal error while applying an UPDATE');
      return signed(Rcode.SERVFAIL);
    }
  }

  async function apply(u: UpdateMessage, key: TsigKey, remote: string | undefined, signed: (rcode: number) => Buffer, refuse: (rcode: number, reason: string) => Buffer): Promise<Buffer> {
    const zone = u.zone;
    // RFC 2136 §3.1.1: a zone not served here (or another class) is NOTAUTH
    if (u.zoneClass !== Class.IN || !catalog.get(zone)) return refuse(Rcode.NOTAUTH, `zone ${zone} is not served here`);
    const prerequisites = prescanPrerequisites(zone, Class.IN, u.prerequisites);
    const updates = prescanUpdates(zone, Class.IN, u.updates);
    const scope = scopeOf(key.scope);
    if (!scopeAllows(scope, zone, prerequisites, updates)) return refuse(Rcode.REFUSED, `TSIG key ${key.name} has scope ${key.scope}, which does not allow this update`);
    const result = await updateRRsets(store, zone, (current) => planUpdate(zone, Class.IN, current, prerequisites, updates), 'update');
    if (result.changed) {
      const changes = updates.map((c) => ({ name: c.name, type: c.type, op: c.class === Class.IN ? 'add' : c.class === Class.NONE ? 'delete-record' : 'delete-rrset', record: c.rdata?.text ?? null }));
      auditLine(logger, { key: key.name, keyId: key.id, scope: key.scope, client: remote ?? null }, 'zone.update', { zone, via: 'rfc2136', serial: result.serial, changes });
      await options.waitServed?.(zone, result.serial);
    }
    return signed(Rcode.NOERROR);
  }

  return async function update(message, _transport, remote) {
    if (pending >= maxPending) {
      metrics.shed.inc();
      const read = readUpdate(message);
      const head = 'update' in read ? { id: read.update.id, zoneEnd: read.update.zoneEnd, edns: false } : { id: read.error.id, zoneEnd: read.error.zoneEnd, edns: false };
      return answer(updateResponse(message, head, Rcode.REFUSED), Rcode.REFUSED);
    }
    pending++;
    try {
      return await handle(message, remote);
    } catch (err) {
      // A bug costs one SERVFAIL, never the process.
      logger.error({ err, client: remote }, 'internal error while answering an UPDATE');
      return answer(updateResponse(message, { id: message.readUInt16BE(0), zoneEnd: 12, edns: false }, Rcode.SERVFAIL), Rcode.SERVFAIL);
    } finally {
      pending--;
    }
  };
}
