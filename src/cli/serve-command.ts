// edgedns serve: run a node until SIGINT/SIGTERM. SIGTERM and SIGINT drain (stop accepting, let in-flight TCP answers
// and API requests finish within --drain-timeout) and exit 0; SIGHUP reloads what can change without a restart
// (src/node/reload.ts) and logs one line saying what.

import v8 from 'node:v8';
import { pino } from 'pino';
import { ConfigError, resolveConfig } from '../node/config.js';
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
  // V8 sizes its heap for throughput on a big machine: after a 100,000-record import it lets ~600 MB of garbage pile
  // up before collecting (the live heap is ~150 MB). A node on a small server wants the memory back sooner; set
  // before anything big is allocated, it applies to every collection after.
  if (config.heapGrowthPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
  // Loaded here, not at the top: every other command (and --version) starts without the whole server.
  const { startNode } = await import('../node/node.js');
  const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
  // A SIGHUP before the node is up must not end the process (its default action).
  let reloadWanted = false;
  const early = (): void => {
    reloadWanted = true;
  };
  process.on('SIGHUP', early);
  const node = await startNode(config, logger);
  let reloading: Promise<void> | undefined;
  let again = false;
  const reload = (): void => {
    // one reload at a time; a HUP during one asks for one more after it
    if (reloading) {
      again = true;
      return;
    }
    reloading = (async () => {
      let next;
      try {
        next = resolveConfig(args.flags);
      } catch (err) {
        logger.error({ err: (err as Error).message }, `reload on SIGHUP: the configuration does not read${err instanceof ConfigError ? '' : ' (unexpected error)'}; keeping the running one, reading files only`);
      }
      await node.reload(next).catch((err: unknown) => logger.error({ err }, 'reload on SIGHUP failed'));
    })().finally(() => {
      reloading = undefined;
      if (again) {
        again = false;
        reload();
      }
    });
  };
  process.off('SIGHUP', early);
  process.on('SIGHUP', reload);
  if (reloadWanted) reload();
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      const started = Date.now();
      logger.info({ signal, drainMs: config.drainTimeoutMs }, 'stopping: no new queries or requests; finishing those in flight');
      node.close({ drainMs: config.drainTimeoutMs }).then(
        () => {
          logger.info({ signal, ms: Date.now() - started }, 'stopped');
          resolve();
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  process.off('SIGHUP', reload);
  // Whatever handle a library left open must not keep a stopped node alive: exit once the log is written.
  setTimeout(() => process.exit(), 2000).unref();
}
