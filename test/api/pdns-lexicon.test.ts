// The real lexicon (Debian package lexicon, 3.11.7) through the PowerDNS API of a running node: ACME-style TXT
// values added and removed one by one, a pool written as a LUA record and listed back, and the pools it never
// touched still intact. lexicon's command line offers only A, AAAA, CNAME, MX, NS, SOA, TXT, SRV and LOC, so the
// LUA records go through lexicon as a library (what certbot's lexicon-based plugins do), with Debian's python3.
// (A zone under a public suffix: lexicon finds the zone with tldextract, which makes "test" the domain of "x.test".)

import t from 'tap';
import path from 'node:path';
import { startTestNode } from '../helpers/node.js';
import { run } from '../helpers/pebble.js';
import { requireTool } from '../helpers/tools.js';
import { dig } from '../helpers/dig.js';

const ZONE = path.resolve('test/fixtures/pdns-clients/edgedns-clients.net.zone');
const DOMAIN = 'edgedns-clients.net';

interface LexiconRecord {
  type: string;
  name: string;
  ttl: number;
  content: string;
}

t.test('lexicon powerdns create, list and delete, pools kept', async (t) => {
  const lexicon = requireTool('lexicon');
  const node = await startTestNode({ zoneFiles: [ZONE] });
  t.teardown(() => node.close());
  const key = (await node.api('POST', '/v1/keys', { body: { scope: `zone:${DOMAIN}` } })).body.secret as string;
  const lex = async (...args: string[]): Promise<string> => {
    const [action, type, ...rest] = args;
    const result = await run(lexicon, ['powerdns', action as string, DOMAIN, type as string, ...rest, '--auth-token', key, '--pdns-server', `http://127.0.0.1:${node.apiPort}`], { timeoutMs: 60_000 });
    t.equal(result.code, 0, `lexicon ${args.join(' ')} exits 0${result.code === 0 ? '' : '\n' + result.output}`);
    return result.output;
  };
  /** lexicon.client.Client, as a library caller runs it; prints the result as JSON. */
  const library = async (action: string, type: string, extra: Record<string, string> = {}): Promise<unknown> => {
    const config = { provider_name: 'powerdns', action, domain: DOMAIN, type, ...extra, powerdns: { auth_token: key, pdns_server: `http://127.0.0.1:${node.apiPort}` } };
    const script = `import json, sys\nfrom lexicon.client import Client\nfrom lexicon.config import ConfigResolver\nprint(json.dumps(Client(ConfigResolver().with_dict(json.loads(sys.argv[1]))).execute()))`;
    const result = await run('/usr/bin/python3', ['-c', script, JSON.stringify(config)], { timeoutMs: 60_000 });
    t.equal(result.code, 0, `lexicon library ${action} ${type} ${JSON.stringify(extra)} succeeds${result.code === 0 ? '' : '\n' + result.output}`);
    return JSON.parse(result.output.trim().split('\n').pop() as string);
  };

  await lex('create', 'TXT', '--name', '_acme-challenge', '--content', 'one', '--ttl', '60');
  await lex('create', 'TXT', '--name', '_acme-challenge', '--content', 'two');
  t.same((await dig(node.dnsPort, `_acme-challenge.${DOMAIN}`, 'TXT')).answer.map((rr) => rr.data).sort(), ['"one"', '"two"'], 'both values served');
  await lex('delete', 'TXT', '--name', '_acme-challenge', '--content', 'one');
  t.same((await dig(node.dnsPort, `_acme-challenge.${DOMAIN}`, 'TXT')).answer.map((rr) => rr.data), ['"two"'], 'one value removed, the other kept');

  const pools = (await library('list', 'LUA')) as LexiconRecord[];
  t.same(pools.map((r) => `${r.name} ${r.content}`).sort(), [`geo.${DOMAIN} A "pool('web')"`, `geo.${DOMAIN} AAAA "pool('web')"`, `v4.${DOMAIN} A "pool('eu')"`], 'lexicon lists the pools as LUA records');

  t.equal(await library('create', 'LUA', { name: 'lb', content: `A "pool('web')"` }), true);
  const lb = (await node.api('GET', `/api/v1/servers/localhost/zones/${DOMAIN}.?rrset_name=lb.${DOMAIN}.`, { key })).body.rrsets;
  t.same(lb.map((r: { type: string; records: { content: string }[] }) => `${r.type} ${r.records.map((x) => x.content).join()}`), [`LUA A "pool('web')"`], 'a LUA record written by lexicon is a pool RRset');
  const zone = (await node.api('GET', `/v1/zones/${DOMAIN}/rrsets`)).body.rrsets as { name: string; type: string; pool?: string }[];
  t.same(zone.filter((r) => r.pool !== undefined).map((r) => `${r.name} ${r.type} ${r.pool}`).sort(), [`geo.${DOMAIN}. A web`, `geo.${DOMAIN}. AAAA web`, `lb.${DOMAIN}. A web`, `v4.${DOMAIN}. A eu`], 'every pool intact in edgedns terms');
});
