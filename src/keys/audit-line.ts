// The audit line: one per accepted write, whichever door it came in by (the REST and PowerDNS APIs, an RFC 2136
// update), in one shape, so `grep '"audit":true'` on a node's log answers "who changed this".

/** Who made a change: the key's name, id and scope, and the client's address. */
export interface AuditWho {
  key: string | null;
  keyId: string | null;
  scope: string | null;
  client: string | null;
}

export interface AuditLogger {
  info(fields: object, message: string): void;
}

export function auditLine(logger: AuditLogger, who: AuditWho, action: string, details: Record<string, unknown>): void {
  logger.info({ audit: true, ...who, action, ...details }, 'audit');
}
