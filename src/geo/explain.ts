// A selection decision in words and numbers for people: where the client is and why, every candidate with its
// distance, health, every observer's vote with the RTT it stands by and the penalty it makes of it, the edge's shared
// penalty and both scores, how each answered edge was taken (anchor, best, the margin and what the best would
// save), and the answer. Used by the API (/v1/route, /v1/pools/:pool/explain).

import { Type } from '../proto/constants.js';
import type { ClientSubnet } from '../proto/query-reader.js';
import { formatIp, parseIp } from './ip.js';
import type { PoolAnswerer } from './pool-answerer.js';
import { ClientParamError } from '../errors.js';

export interface Explanation {
  pool: string;
  type: 'A' | 'AAAA';
  client: {
    source: string;
    network?: string;
    location?: unknown;
    geoipPrefix?: number;
    scopePrefix: number;
  };
  decision: {
    chosen: string[];
    failOpen: boolean;
    noData: boolean;
    pin?: string;
    ttl: number;
    from: string;
    margin: { percent: number; ms: number; rounds: number };
    steering: unknown[];
    candidates: unknown[];
  };
  answer: string[];
}

/** "81.2.69.160" or "81.2.69.0/24" (given in request field `field`) as the client-subnet option a resolver would send. */
export function clientSubnetFromText(text: string, field = 'client'): ClientSubnet {
  const [address, len] = text.split('/');
  const parsed = parseIp(address ?? '');
  if (!parsed) throw new ClientParamError(`"${text}" is not an IP address or network`, field);
  const max = parsed.family === 4 ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new ClientParamError(`"${text}": prefix is not 0-${max}`, field);
  return { family: parsed.family === 4 ? 1 : 2, sourcePrefix: prefix, scopePrefix: 0, address: parsed.bytes.subarray(0, Math.ceil(prefix / 8)) };
}

export function explain(answerer: PoolAnswerer, pool: string, qtype: number, longestCidrPin: number, ecs: ClientSubnet | undefined, remote: string | undefined): Explanation {
  const client = answerer.client(ecs, remote, longestCidrPin);
  const family = qtype === Type.AAAA ? 6 : 4;
  const decision = answerer.decide(pool, family, client);
  return {
    pool,
    type: family === 6 ? 'AAAA' : 'A',
    client: {
      source: client.source,
      network: client.network,
      location: client.location,
      geoipPrefix: client.geoipPrefix,
      scopePrefix: client.scopePrefix,
    },
    decision: {
      chosen: decision.chosen,
      failOpen: decision.failOpen,
      noData: decision.noData,
      ...(decision.pin ? { pin: decision.pin } : {}),
      ttl: decision.ttl,
      from: decision.from,
      margin: decision.margin,
      steering: decision.steering,
      candidates: decision.candidates.map((c) => ({
        ...c,
        geoScoreMs: hundredths(c.geoScoreMs),
        scoreMs: hundredths(c.scoreMs),
        distanceKm: c.distanceKm === undefined ? undefined : Math.round(c.distanceKm),
        estimateMs: c.estimateMs === undefined ? undefined : hundredths(c.estimateMs),
        measuredRttMs: c.measuredRttMs === undefined ? undefined : hundredths(c.measuredRttMs),
        votes: c.votes.map((v) => ({ ...v, ageMs: Math.round(v.ageMs) })),
      })),
    },
    answer: decision.addresses.map((a) => formatIp(a.length === 4 ? 4 : 6, a)),
  };
}

/** A score for people: hundredths of a millisecond, null when the edge was not ranked. */
function hundredths(ms: number): number | null {
  return Number.isFinite(ms) ? Math.round(ms * 100) / 100 : null;
}
