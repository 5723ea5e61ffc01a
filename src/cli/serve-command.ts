// edgedns serve: run a node until SIGINT/SIGTERM.

import { pino } from 'pino';
import { resolveConfig } from '../node/config.js';
import { startNode } from '../node/node.js';
import type { ParsedArgs } from './args.js';

export const SERVE_HELP = `Usage: edgedns serve [options]

Runs one edgedns node: authoritative DNS on UDP and TCP and the HTTP API.

Options (each also from an environment variable):
  --dns HOST:PORT        DNS address (EDGEDNS_DNS, default 127.0.0.1:5300; use [::1]:5300 for IPv6)
  --api HOST:PORT        HTTP API address (EDGEDNS_API, default 127.0.0.1:8053)
  --data DIR             data directory: database, admin.key (EDGEDNS_DATA, default ./data)
  --zones DIR            import each *.zone file whose zone the store lacks (EDGEDNS_ZONES)
  --node-id NAME         this node's name, answered to CHAOS id.server (EDGEDNS_NODE_ID, default hostname)
  --chaos-version TEXT   answer CHAOS version.bind with TEXT (EDGEDNS_CHAOS_VERSION; default REFUSED)
  --tcp-idle-timeout S   close TCP connections idle for S seconds (EDGEDNS_TCP_IDLE_TIMEOUT, default 10)
  --http HOST:PORT       asset server for deployed sites (EDGEDNS_HTTP, default 127.0.0.1:8080; port 80 in production)
  --preview-domain NAME  <deployment-id>.NAME serves that deployment (EDGEDNS_PREVIEW_DOMAIN, default preview.localhost)
  --pages-cache-mb N     MiB of hot files kept in memory (EDGEDNS_PAGES_CACHE_MB, default 64)
  --pages-max-files N    files per deployment (EDGEDNS_PAGES_MAX_FILES, default 20000)
  --pages-immutable-max-age S   Cache-Control max-age for fingerprinted files like app.3f9a1c2e.js
                         (EDGEDNS_PAGES_IMMUTABLE_MAX_AGE, default 31536000; 0: always revalidate)
  --geoip PATH[,PATH]    GeoIP .mmdb files, GeoLite2/GeoIP2 City or DB-IP City Lite (EDGEDNS_GEOIP; default the
                         DB-IP City Lite package; "none" for no GeoIP)
  --probe-interval S     probe every edge a pool uses every S seconds (EDGEDNS_PROBE_INTERVAL, default 10)
  --probe-timeout S      a probe fails after S seconds (EDGEDNS_PROBE_TIMEOUT, default 2)
  --couchdb URL          use CouchDB as the store (EDGEDNS_COUCHDB; credentials in the URL or
                         EDGEDNS_COUCHDB_USER / EDGEDNS_COUCHDB_PASSWORD); default: embedded store in --data
  --db-prefix P          CouchDB database name prefix (EDGEDNS_DB_PREFIX, default edgedns_)
  --replicate-from URL   embedded store only: pull continuously from this CouchDB server (EDGEDNS_REPLICATE_FROM)
  --acme-ttl S           TTL of ACME challenge TXT records (EDGEDNS_ACME_TTL, default 60)
  --acme-lifetime S      challenge values expire after S seconds unless removed (EDGEDNS_ACME_LIFETIME, default 3600)
  --acme-dns-domain NAME acme-dns registrations get <uuid>.NAME (EDGEDNS_ACME_DNS_DOMAIN; default: acme-dns off)
  --pages-skew-grace S   after a production switch, paths the new deployment lacks come from the previous one for
                         S seconds (EDGEDNS_PAGES_SKEW_GRACE, default 600; 0: off)
  --watchdog-interval S  CouchDB: check every replication this node holds every S seconds (EDGEDNS_WATCHDOG_INTERVAL,
                         default 3)
  --replication-stall S  restart a replication with changes pending and none delivered for S seconds
                         (EDGEDNS_REPLICATION_STALL, default 10)
  --heartbeat S          rewrite this node's health document at least every S seconds (EDGEDNS_HEARTBEAT, default 60)
  --workers N            DNS worker processes sharing the DNS sockets, or "auto" for one per CPU (EDGEDNS_WORKERS,
                         default 1: this process answers). The main process keeps the store, API, probes and pages
  --log-level LEVEL      pino level: debug, info, warn, error (EDGEDNS_LOG_LEVEL, default info)
`;

export async function serveCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  if (args.flags.help) {
    out.write(SERVE_HELP);
    return;
  }
  const config = resolveConfig(args.flags);
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
  const node = await startNode(config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      node.close().then(resolve, (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
