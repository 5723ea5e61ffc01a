// edgedns serve: run a node until SIGINT/SIGTERM.

import { pino } from 'pino';
import { resolveConfig } from '../node/config.js';
import type { ParsedArgs } from './args.js';
import { serveCommandOptions, serveHelp } from './serve-help.js';

export const SERVE_HELP = serveHelp();
export const SERVE_COMMAND_OPTIONS = serveCommandOptions();

export async function serveCommand(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void> {
  if (args.flags.help) {
    out.write(SERVE_HELP);
    return;
  }
  const config = resolveConfig(args.flags);
  // Loaded here, not at the top: every other command (and --version) starts without the whole server.
  const { startNode } = await import('../node/node.js');
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
