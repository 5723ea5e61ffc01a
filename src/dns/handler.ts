// The one place a message becomes a response: read, route (CHAOS, catalog), look up, encode, count.
// Synchronous and memory-only (DESIGN: the hot path does no I/O). Failures become rcodes here and nowhere else.

import type { Logger } from 'pino';
import { Catalog } from '../zone/catalog.js';
import { resolveDynamic } from './dynamic-answer.js';
import type { GeoAnswerer } from '../geo/pool-answerer.js';
import { lookup, type LookupResult } from '../zone/lookup.js';
import type { ZoneIndex } from '../zone/zone-index.js';
import { encodeSections, type EncodedSections } from './answer-encoder.js';
import { createChaos, type ChaosConfig } from './chaos.js';
import { Class, EDNS_UDP_PAYLOAD, MIN_UDP_PAYLOAD, Rcode, Type } from '../proto/constants.js';
import type { DnsMetrics, Transport } from './metrics.js';
import { readQuery, type Query } from '../proto/query-reader.js';
import { buildResponse, type ResponseInput } from './response.js';
import { ResponseClass, type ResponseClassCode } from './response-class.js';
import { Verdict, type ResponseRateLimiter } from './rrl.js';

export interface HandlerOptions {
  catalog: Catalog;
  chaos: ChaosConfig;
  metrics: DnsMetrics;
  logger: Logger;
  /** Answers dynamic (pool) RRsets; without it they answer NODATA. */
  geo?: GeoAnswerer;
  /** Rate-limits UDP responses; without it none are. */
  rrl?: ResponseRateLimiter;
  /** This server's NSID (RFC 5001), answered to queries that ask for it; none when unset. */
  nsid?: Buffer;
}

/** `remote` is the client's (the resolver's) address: the client location when the query has no ECS. */
export type DnsHandler = (message: Buffer, transport: Transport, remote?: string) => Buffer | undefined;

const TCP_LIMIT = 65535;
/** Qtypes below this are cached per node; a flood of random high qtypes then cannot grow the cache. */
const CACHEABLE_QTYPES = 512;
const NODATA_KEY = -1;

function sizeLimit(query: { edns?: { udpSize: number } }, transport: Transport): number {
  if (transport === 'tcp') return TCP_LIMIT;
  if (!query.edns) return MIN_UDP_PAYLOAD;
  // RFC 6891 §6.2.5: values below 512 are treated as 512; we never send more than we advertise
  return Math.min(Math.max(query.edns.udpSize, MIN_UDP_PAYLOAD), EDNS_UDP_PAYLOAD);
}

interface ZoneAnswer {
  sections: EncodedSections;
  /** ECS scope prefix for the reply: 0 unless a dynamic answer depended on the client's network. */
  scope: number;
}

function answerFromZone(zone: ZoneIndex, query: Query, geo: GeoAnswerer | undefined, remote: string | undefined): ZoneAnswer {
  const { qname, qtype } = query;
  const node = zone.nodes.get(qname);
  let result: LookupResult;
  if (!node || qtype >= CACHEABLE_QTYPES) result = lookup(zone, qname, qtype);
  else {
    // Every type a node lacks gets the same answer unless a CNAME or the DS rule makes it depend on the type.
    const specific = node.rrsets.has(qtype) || node.rrsets.has(Type.CNAME) || qtype === Type.DS || qtype === Type.ANY;
    const key = specific ? qtype : NODATA_KEY;
    // Static answers are cached as bytes; a dynamic one as its lookup result, selected and encoded per query.
    const cached = node.answerCache.get(key) as EncodedSections | LookupResult | undefined;
    if (cached && !('kind' in cached)) return { sections: cached, scope: 0 };
    if (cached) result = cached;
    else {
      result = lookup(zone, qname, qtype);
      if (!result.dynamic) {
        const sections = encodeSections(result, qname, query.qnameWireLength);
        node.answerCache.set(key, sections);
        return { sections, scope: 0 };
      }
      node.answerCache.set(key, result);
    }
  }
  if (!result.dynamic) return { sections: encodeSections(result, qname, query.qnameWireLength), scope: 0 };
  const resolved = resolveDynamic(zone, result, geo, query.edns?.ecs, remote);
  // a result shared by the queries given the same answer is encoded once for all of them
  const built = resolved.built;
  const sections = built?.sections ?? encodeSections(resolved.result, qname, query.qnameWireLength);
  if (built) built.sections = sections;
  return { sections, scope: resolved.scopePrefix };
}

export function createHandler(options: HandlerOptions): DnsHandler {
  const { catalog, metrics, logger, rrl, nsid } = options;
  const chaos = createChaos(options.chaos);

  /** Rate limiting's verdict on a UDP response (TCP answers prove their source address and are never limited). */
  function limit(transport: Transport, remote: string | undefined, kind: ResponseClassCode, name: string, qtype: number, now: number): number {
    return rrl === undefined || transport !== 'udp' || remote === undefined ? Verdict.SEND : rrl.check(remote, kind, name, qtype, now);
  }

  return function handle(message, transport, remote) {
    const started = performance.now();
    let qtype = -1;
    let input: ResponseInput | undefined;
    try {
      const read = readQuery(message);
      if ('drop' in read) {
        metrics.drop(read.drop);
        return undefined;
      }
      if ('error' in read) {
        const { error } = read;
        input = { message, id: error.id, flags: error.flags, questionEnd: error.questionEnd, edns: error.edns, limit: sizeLimit(error, transport), nsid };
        const verdict = limit(transport, remote, ResponseClass.ERROR, '', -1, started);
        if (verdict === Verdict.DROP) return undefined;
        const response = buildResponse(input, error.rcode, undefined, verdict === Verdict.SLIP);
        metrics.answered(transport, -1, error.rcode, (performance.now() - started) / 1000, remote, error.edns);
        return response;
      }
      const { query } = read;
      qtype = query.qtype;
      input = { message, id: query.id, flags: query.flags, questionEnd: query.questionEnd, edns: query.edns, limit: sizeLimit(query, transport), nsid };

      let rcode: number;
      let sections: EncodedSections | undefined;
      // The flow rate limiting counts this response under: see rrl.ts
      let kind: ResponseClassCode = ResponseClass.ERROR;
      let flowName = query.qname;
      let zoneKey: string | undefined;
      if (query.edns && query.edns.version !== 0) {
        rcode = Rcode.BADVERS; // RFC 6891 §6.1.3
      } else if (query.qtype === Type.AXFR || query.qtype === Type.IXFR) {
        // Zone transfers are not offered (replication is CouchDB's job): NOTAUTH as Knot without a transfer ACL;
        // AXFR needs TCP (RFC 5936 §4.2), so over UDP it is not implemented at all.
        rcode = query.qtype === Type.AXFR && transport === 'udp' ? Rcode.NOTIMP : Rcode.NOTAUTH;
      } else if (query.qtype === Type.MAILA || query.qtype === Type.MAILB) {
        rcode = Rcode.NOTIMP;
      } else if (query.qclass === Class.CH) {
        const answer = chaos(query.qname, query.qtype);
        rcode = answer.rcode;
        if ('bytes' in answer) {
          sections = answer;
          kind = ResponseClass.ANSWER;
        }
      } else if (query.qclass !== Class.IN && query.qclass !== Class.ANY) {
        rcode = Rcode.REFUSED;
      } else {
        const zone = catalog.find(query.qname);
        if (!zone) rcode = Rcode.REFUSED; // authoritative only: never recursion (RFC 1034 §4.3.1)
        else {
          zoneKey = zone.apex.key;
          const answered = answerFromZone(zone, query, options.geo, remote);
          sections = answered.sections;
          input.ecsScope = answered.scope;
          rcode = sections.rcode;
          kind = sections.responseClass;
          if (kind !== ResponseClass.ANSWER) flowName = zone.apex.key;
        }
      }
      const verdict = limit(transport, remote, kind, flowName, qtype, started);
      if (verdict === Verdict.DROP) return undefined;
      const response = buildResponse(input, rcode, sections, verdict === Verdict.SLIP);
      if (verdict === Verdict.SEND && response[2] & 0x02) metrics.truncation(transport);
      metrics.answered(transport, qtype, rcode, (performance.now() - started) / 1000, remote, query.edns, zoneKey);
      return response;
    } catch (err) {
      // A bug must cost one SERVFAIL, never the process (CoreDNS's recover plugin does the same).
      metrics.internalError();
      logger.error({ err, transport }, 'internal error while answering a query');
      if (!input) return undefined;
      try {
        return buildResponse(input, Rcode.SERVFAIL);
      } catch {
        return undefined;
      }
    }
  };
}
