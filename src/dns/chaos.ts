// CHAOS-class identity queries (RFC 4892): which node answered, for monitors and debugging anycast/GeoDNS.
// version.bind stays REFUSED unless the operator chooses to publish a version string.

import { Class, Rcode, Type } from '../proto/constants.js';
import type { EncodedSections } from './answer-encoder.js';
import { ResponseClass } from './response-class.js';

export interface ChaosConfig {
  nodeId: string;
  version?: string;
  /** Text for CHAOS TXT health.edgedns. ("ok" or "stale <seconds>"), read per query from memory; REFUSED when unset. */
  health?: () => string;
}

function txtRecord(text: string): Buffer {
  const value = Buffer.from(text, 'utf8').subarray(0, 255);
  const rr = Buffer.allocUnsafe(2 + 10 + 1 + value.length);
  rr.writeUInt16BE(0xc00c, 0); // owner: the question name
  rr.writeUInt16BE(Type.TXT, 2);
  rr.writeUInt16BE(Class.CH, 4);
  rr.writeUInt32BE(0, 6);
  rr.writeUInt16BE(1 + value.length, 10);
  rr[12] = value.length;
  value.copy(rr, 13);
  return rr;
}

function answer(bytes: Buffer | undefined): EncodedSections {
  const size = bytes?.length ?? 0;
  return {
    rcode: Rcode.NOERROR,
    // not data of any zone we serve, so not authoritative (Knot answers the same way)
    authoritative: false,
    bytes: bytes ?? Buffer.alloc(0),
    answerCount: bytes ? 1 : 0,
    authorityCount: 0,
    additionalCount: 0,
    withoutAdditional: size,
    glueRequired: false,
    responseClass: ResponseClass.ANSWER,
  };
}

export type ChaosAnswer = EncodedSections | { rcode: number };

export function createChaos(config: ChaosConfig): (qname: string, qtype: number) => ChaosAnswer {
  const identity = txtRecord(config.nodeId);
  const version = config.version === undefined ? undefined : txtRecord(config.version);
  const names = new Map<string, Buffer | undefined>([
    ['id.server.', identity],
    ['hostname.bind.', identity],
    ['version.bind.', version],
    ['version.server.', version],
  ]);
  const health = config.health;
  return (qname, qtype) => {
    if (qname === 'health.edgedns.' && health) {
      // Built per query (the age changes every second); a few bytes, no I/O, for dig-based monitors.
      return qtype === Type.TXT || qtype === Type.ANY ? answer(txtRecord(health())) : answer(undefined);
    }
    if (!names.has(qname)) return { rcode: Rcode.REFUSED };
    const record = names.get(qname);
    if (!record) return { rcode: Rcode.REFUSED };
    if (qtype !== Type.TXT && qtype !== Type.ANY) return answer(undefined);
    return answer(record);
  };
}
