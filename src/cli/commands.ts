// Every `edgedns` command: the options it accepts, its help text and what runs it. main.ts dispatches on this
// table, and test/cli/commands.test.ts checks each help text names every option its command accepts.

import { acmeCommand, ACME_HELP, ACME_OPTIONS } from './acme-commands.js';
import type { CommandOptions, ParsedArgs } from './args.js';
import { certCommand, CERT_HELP, CERT_OPTIONS, secretsCommand, SECRETS_HELP, SECRETS_OPTIONS } from './cert-commands.js';
import { clusterCommand, CLUSTER_HELP, CLUSTER_OPTIONS } from './cluster-commands.js';
import { deployCommand, DEPLOY_HELP, DEPLOY_OPTIONS } from './deploy-command.js';
import { edgeCommand, EDGE_HELP, EDGE_OPTIONS, routeCommand, ROUTE_HELP, ROUTE_OPTIONS } from './edge-commands.js';
import { keyCommand, KEY_HELP, KEY_OPTIONS } from './key-commands.js';
import { tsigCommand, TSIG_HELP, TSIG_OPTIONS } from './tsig-commands.js';
import { poolCommand, POOL_HELP, POOL_OPTIONS } from './pool-commands.js';
import { serveCommand, SERVE_COMMAND_OPTIONS, SERVE_HELP } from './serve-command.js';
import { siteCommand, SITE_HELP, SITE_OPTIONS } from './site-commands.js';
import { zoneCommand, ZONE_HELP, ZONE_OPTIONS } from './zone-commands.js';

export interface Command {
  options: CommandOptions;
  /** False when the command takes no words after its name (`edgedns serve extra` is an error, not ignored). */
  positionals: boolean;
  help: string;
  run(args: ParsedArgs, out: NodeJS.WritableStream): Promise<void>;
}

export const COMMANDS: Record<string, Command> = {
  serve: { options: SERVE_COMMAND_OPTIONS, positionals: false, help: SERVE_HELP, run: serveCommand },
  zone: { options: ZONE_OPTIONS, positionals: true, help: ZONE_HELP, run: zoneCommand },
  edge: { options: EDGE_OPTIONS, positionals: true, help: EDGE_HELP, run: edgeCommand },
  pool: { options: POOL_OPTIONS, positionals: true, help: POOL_HELP, run: poolCommand },
  route: { options: ROUTE_OPTIONS, positionals: true, help: ROUTE_HELP, run: routeCommand },
  cluster: { options: CLUSTER_OPTIONS, positionals: true, help: CLUSTER_HELP, run: clusterCommand },
  key: { options: KEY_OPTIONS, positionals: true, help: KEY_HELP, run: keyCommand },
  tsig: { options: TSIG_OPTIONS, positionals: true, help: TSIG_HELP, run: tsigCommand },
  acme: { options: ACME_OPTIONS, positionals: true, help: ACME_HELP, run: acmeCommand },
  deploy: { options: DEPLOY_OPTIONS, positionals: true, help: DEPLOY_HELP, run: deployCommand },
  site: { options: SITE_OPTIONS, positionals: true, help: SITE_HELP, run: siteCommand },
  cert: { options: CERT_OPTIONS, positionals: true, help: CERT_HELP, run: certCommand },
  secrets: { options: SECRETS_OPTIONS, positionals: true, help: SECRETS_HELP, run: secretsCommand },
};

export const HELP = `edgedns: authoritative GeoDNS and edge platform node

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
  edgedns tsig create|list|revoke TSIG keys for RFC 2136 updates (nsupdate, lego rfc2136, certbot)
  edgedns acme certbot-auth|certbot-cleanup|lego-exec|add|remove   ACME DNS-01 hooks
  edgedns deploy DIR --site HOST [--preview] [--message TEXT]   upload a static site, atomically
  edgedns site list|deployments|rollback|promote|gc   sites served by the asset server
  edgedns cert list|renew|import HTTPS certificates the cluster orders (or you bring); see docs/https.md
  edgedns secrets rotate         a new cluster secrets key for the private keys in the store
  edgedns version                print the version (also edgedns --version)
  edgedns COMMAND --help         help for one command (also edgedns help COMMAND)
`;

/** The options of `edgedns` itself, before any command. */
export const TOP_OPTIONS: CommandOptions = { version: { type: 'boolean' } };
