// edgedns serve: run a node until SIGINT/SIGTERM.

import { pino } from 'pino';
import { resolveConfig } from '../config.js';
import { startNode } from '../node.js';
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
