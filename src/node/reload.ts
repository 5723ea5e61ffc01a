// SIGHUP: what a running node takes in again without a restart and without dropping a query, and the one log line
// that says so. Nothing here touches a socket: DNS keeps answering from the same sockets throughout.
//   - log level: from the configuration read again (--config file, environment), applied at once;
//   - GeoIP files: every loaded .mmdb read again and swapped in (a file that fails to read keeps the old one);
//   - TLS material: the cluster secrets key file read again, then every certificate's private key opened again with
//     it (certificates themselves follow the store and are swapped as they change, so there is nothing else to load).
// Other settings that differ from the running ones (addresses, directories, limits) are named as needing a restart.

import type { Logger } from 'pino';
import type { GeoRuntime } from '../geo/geo-runtime.js';
import type { GeoIpReload } from '../geo/geoip.js';
import type { ClusterSecrets } from '../secrets/cluster-secrets.js';
import type { CertIndex } from '../tls/cert-index.js';
import type { NodeConfig } from './config.js';
import type { WorkerPool } from './workers/primary.js';

export interface ReloadReport {
  logLevel: { from: string; to: string };
  /** One entry per GeoIP file read again; none when no database is loaded. */
  geoip: GeoIpReload[];
  /** undefined: the key matches the cluster; else why it does not. */
  secretsKeyProblem?: string;
  certificates: { served: number; failed: number };
  /** DNS workers that applied the log level and read their GeoIP files again (--workers). */
  workers?: { reloaded: number; of: number };
  /** Settings that differ from the running ones and take effect only after a restart. */
  restartNeeded: string[];
}

export interface ReloadParts {
  /** The configuration the node runs with; its log level is updated. */
  config: NodeConfig;
  /** The configuration read again; undefined: keep the running one (reload files only). */
  next?: NodeConfig;
  logger: Logger;
  geo: GeoRuntime;
  secrets: ClusterSecrets;
  certs: CertIndex;
  workers?: WorkerPool;
}

/** Settings a reload applies itself; every other difference needs a restart. */
const RELOADED_SETTINGS = new Set<keyof NodeConfig>(['logLevel']);

export async function reloadNode(parts: ReloadParts): Promise<ReloadReport> {
  const { config, next, logger, geo, secrets, certs, workers } = parts;
  const from = String(logger.level);
  const to = next?.logLevel ?? from;
  // A level turned down applies after the line below, a level turned up before it: either way the line shows
  // at whichever of the two levels lets it.
  const quieter = logger.levels.values[to] > logger.levels.values[from];
  if (!quieter) logger.level = to;
  config.logLevel = to;
  const geoip = await geo.reloadGeoip();
  await secrets.reload();
  const served = await certs.reload();
  const report: ReloadReport = {
    logLevel: { from, to },
    geoip,
    secretsKeyProblem: secrets.problem(),
    certificates: served,
    workers: workers ? await workers.reload(to) : undefined,
    restartNeeded: next ? changedSettings(config, next) : [],
  };
  logger.info(
    { reload: report },
    `reloaded on SIGHUP: log level ${from === to ? `${to} (unchanged)` : `${from} -> ${to}`}, ${geoip.length} GeoIP file(s), ` +
      `secrets key ${report.secretsKeyProblem === undefined ? 'ok' : 'NOT OK'}, ${served.served} certificate(s)` +
      (report.workers ? `, ${report.workers.reloaded}/${report.workers.of} DNS workers` : '') +
      (report.restartNeeded.length > 0 ? `; needs a restart to change: ${report.restartNeeded.join(', ')}` : ''),
  );
  if (quieter) logger.level = to;
  return report;
}

function changedSettings(running: NodeConfig, next: NodeConfig): string[] {
  return (Object.keys(next) as (keyof NodeConfig)[]).filter((key) => !RELOADED_SETTINGS.has(key) && JSON.stringify(running[key]) !== JSON.stringify(next[key]));
}
