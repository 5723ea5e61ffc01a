// Removes expired challenge values from the store on a timer, and counts the values being served. Every node runs
// one; two nodes sweeping the same value at once is harmless (the second finds nothing to do).

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import type { ZoneSync } from '../zone/zone-sync.js';
import { ACME_FIELD, activeChallenges, dropExpired, expiries, type ChallengeSettings } from './challenges.js';

export const SWEEP_INTERVAL_MS = 30_000;

export interface AcmeMetrics {
  writes: Counter<'op' | 'result'>;
}

export function acmeMetrics(registry: Registry, sync: ZoneSync): AcmeMetrics {
  const active: Gauge = new Gauge({
    name: 'edgedns_acme_challenges_active',
    help: 'ACME challenge TXT values being served (not expired)',
    registers: [registry],
    collect: (): void => active.set(activeChallenges(sync.rrsetDocsWith(ACME_FIELD)).length),
  });
  return {
    writes: new Counter({
      name: 'edgedns_acme_challenge_writes_total',
      help: 'ACME challenge values added, removed and expired, by result',
      labelNames: ['op', 'result'],
      registers: [registry],
    }),
  };
}

export function startSweeper(options: { store: Store; sync: ZoneSync; settings: ChallengeSettings; logger: Logger; metrics: AcmeMetrics; intervalMs?: number }): () => void {
  const { store, sync, settings, logger, metrics } = options;
  let running = false;
  const sweep = async (): Promise<void> => {
    if (running) return;
    running = true;
    const now = Date.now();
    try {
      for (const [zone, docs] of sync.rrsetDocsWith(ACME_FIELD)) {
        for (const doc of docs) {
          if (doc.rrtype !== 'TXT' || !Object.values(expiries(doc)).some((at) => Date.parse(at) <= now)) continue;
          try {
            const result = await dropExpired(store, zone, doc.name, settings, now);
            if (result.changed) {
              metrics.writes.labels('expire', 'ok').inc();
              logger.info({ audit: true, key: 'expiry', action: 'acme.expire', zone, name: doc.name }, 'expired ACME challenge values removed');
            }
          } catch (err) {
            metrics.writes.labels('expire', 'failed').inc();
            logger.warn({ zone, name: doc.name, err: (err as Error).message }, 'could not remove expired ACME challenge values');
          }
        }
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void sweep(), options.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
