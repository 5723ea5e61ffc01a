#!/usr/bin/env node
// The edgedns command. Output here is for people; the server itself logs JSON through pino.

import { ConfigError } from '../node/config.js';
import { StoreDamagedError, StoreUnavailableError } from '../store/store.js';
import { ApiRequestError } from './api-client.js';
import { clusterCommand, ClusterCommandError, CLUSTER_HELP } from './cluster-commands.js';
import { parseArgs, UsageError } from './args.js';
import { serveCommand, SERVE_HELP } from './serve-command.js';
import { zoneCommand, ZONE_HELP } from './zone-commands.js';
import { keyCommand, KEY_HELP } from './key-commands.js';
import { acmeCommand, ACME_HELP } from './acme-commands.js';
import { edgeCommand, EDGE_HELP, routeCommand, ROUTE_HELP } from './edge-commands.js';
import { poolCommand, POOL_HELP } from './pool-commands.js';
import { deployCommand, DEPLOY_HELP } from './deploy-command.js';
import { siteCommand, SITE_HELP } from './site-commands.js';

const HELP = `edgedns: authoritative GeoDNS and edge platform node

Usage:
  edgedns serve [options]        run a node (DNS + API); see edgedns serve --help
  edgedns zone import FILE       import a BIND zone file (--replace to overwrite)
  edgedns zone export NAME       print a zone as a BIND zone file
  edgedns zone list              list zones
  edgedns edge add|set|list|rm   edges visitors are sent to; see edgedns edge --help
  edgedns pool add|set|list|rm|explain   pools of edges that dynamic RRsets answer from
  edgedns route NAME --client IP which edge a client gets for NAME, and why
  edgedns cluster join|leave|status|conflicts   CouchDB replication mesh; see edgedns cluster --help
  edgedns key create|list|revoke API keys: admin, zone:NAME, acme:NAME or site:HOST scope
  edgedns acme certbot-auth|certbot-cleanup|lego-exec|add|remove   ACME DNS-01 hooks
  edgedns deploy DIR --site HOST [--preview] [--message TEXT]   upload a static site, atomically
  edgedns site list|deployments|rollback|promote|gc   sites served by the asset server
  edgedns COMMAND --help         help for one command
`;

const BOOLEANS = new Set(['help', 'replace', 'preview']);

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, BOOLEANS);
  const command = args.positionals[0];
  switch (command) {
    case 'serve':
      await serveCommand(args, process.stdout);
      return 0;
    case 'zone':
      await zoneCommand(args, process.stdout);
      return 0;
    case 'key':
      await keyCommand(args, process.stdout);
      return 0;
    case 'acme':
      await acmeCommand(args, process.stdout);
      return 0;
    case 'edge':
      await edgeCommand(args, process.stdout);
      return 0;
    case 'pool':
      await poolCommand(args, process.stdout);
      return 0;
    case 'route':
      await routeCommand(args, process.stdout);
      return 0;
    case 'cluster':
      await clusterCommand(args, process.stdout);
      return 0;
    case 'deploy':
      await deployCommand(args, process.stdout);
      return 0;
    case 'site':
      await siteCommand(args, process.stdout);
      return 0;
    case undefined:
    case 'help':
      process.stdout.write(HELP);
      return args.flags.help || command === 'help' ? 0 : 2;
    default:
      process.stderr.write(`edgedns: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const known =
      err instanceof UsageError ||
      err instanceof ConfigError ||
      err instanceof ApiRequestError ||
      err instanceof ClusterCommandError ||
      err instanceof StoreDamagedError ||
      err instanceof StoreUnavailableError;
    process.stderr.write(`edgedns: ${known ? (err as Error).message : (err as Error).stack ?? String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);

export { KEY_HELP, ACME_HELP, SERVE_HELP, ZONE_HELP, CLUSTER_HELP, EDGE_HELP, POOL_HELP, ROUTE_HELP, DEPLOY_HELP, SITE_HELP };
