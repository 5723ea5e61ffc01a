// What the fault suite shares besides the node itself (test/helpers/node.ts starts it; waitFor polls): the readers a
// user checks with (answers, CHAOS health, /healthz, pages), the cluster command run as an operator would on one
// machine, a TCP proxy to cut or black-hole a path between peers (test/helpers/tcp-proxy.ts), pouchdb-servers
// started a few at a time, and a geo zone with edges that point at the nodes' own asset servers.

import { runCommand } from '../helpers/cli.js';
import { decodeMessage } from '../helpers/decode.js';
import { dig } from '../helpers/dig.js';
import { udpExchange } from '../helpers/dns-socket.js';
import type { ApiResult, TestNode } from '../helpers/node.js';
import { startPouchServer, type PouchServer } from '../helpers/pouchdb-server.js';
import { get } from '../pages/pages-helpers.js';
import { buildQuery } from '../helpers/wire.js';

export { tcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
let queryId = 1;
const nextId = (): number => (queryId = (queryId % 65_535) + 1);

/** Every answer record's data, or [rcode] when there is none. */
export async function ask(node: Pick<TestNode, 'dnsPort'>, name: string, type = 'A'): Promise<string[]> {
  if (type === 'A') {
    // Polled often by the cluster tests: one datagram from this process, not a dig process per question.
    const reply = decodeMessage(await udpExchange(node.dnsPort, buildQuery(name, 1, { id: nextId() }), 1000));
    const answers = reply.answer.filter((rr) => rr.type === 'A').map((rr) => [...rr.rdata].join('.'));
    return answers.length > 0 ? answers : [RCODES[reply.header.rcode] ?? String(reply.header.rcode)];
  }
  const reply = await dig(node.dnsPort, name, type, { timeoutSeconds: 1 });
  return reply.answer.length > 0 ? reply.answer.filter((rr) => rr.type === type).map((rr) => rr.data) : [reply.rcode];
}

/** CHAOS TXT health.edgedns.: "ok", "stale <s> <why>" or "degraded <reason>". */
export async function health(node: Pick<TestNode, 'dnsPort'>): Promise<string> {
  const reply = decodeMessage(await udpExchange(node.dnsPort, buildQuery('health.edgedns.', 16, { id: nextId(), qclass: 3 }), 1000));
  const txt = reply.answer.find((rr) => rr.type === 'TXT');
  return txt ? txt.rdata.toString('latin1', 1, 1 + txt.rdata[0]) : (RCODES[reply.header.rcode] ?? 'no answer');
}

/** The API's /healthz. */
export function healthz(node: TestNode): Promise<ApiResult> {
  return node.api('GET', '/healthz', { key: null });
}

/** One GET to the node's asset server with a Host header, the body as text. */
export async function page(node: Pick<TestNode, 'httpPort'>, host: string, urlPath: string): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const { status, body, headers } = await get(node.httpPort, host, urlPath);
  return { status, body: body.toString('utf8'), headers };
}

/** The asset server's /healthz: 200 when the node can serve sites (what the geo probes check). */
export async function pagesHealthz(node: Pick<TestNode, 'httpPort'>): Promise<{ status: number; body: string }> {
  const { status, body } = await page(node, 'localhost', '/healthz');
  return { status, body };
}

/** The node's metrics text (with --workers it would be the primary's only; the fault tests run one process). */
export function metricsText(node: TestNode): Promise<string> {
  return node.node.registry.metrics();
}

/** Runs `edgedns cluster ...` against one CouchDB, as an operator on that machine would; returns what it prints. */
export async function cluster(couchdb: string, ...argv: string[]): Promise<string> {
  const result = await runCommand(['cluster', ...argv, '--couchdb', couchdb]);
  if (result.error) throw result.error;
  return result.stdout;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A zone whose apex and www answer from pool "web". */
export function geoZone(apex: string): string {
  return [`$ORIGIN ${apex}`, '$TTL 60', '@ IN SOA ns1 hostmaster 1 7200 1800 1209600 300', '  IN NS ns1', 'ns1 IN A 192.0.2.53', '@ 30 IN POOL web', 'www 30 IN POOL web', 'mail IN A 192.0.2.25', ''].join('\n');
}

/** edges.json: edges 127.0.0.<i+1>, each checked at a node's asset server /healthz, and pool "web" of all of them. */
export function edgesFor(httpPorts: number[]): string {
  const edges = httpPorts.map((port, i) => ({
    name: `e${i + 1}`,
    ipv4: [`127.0.0.${i + 1}`],
    latitude: 50 + i,
    longitude: 5 + i,
    check: { type: 'http', url: `http://127.0.0.1:${port}/healthz` },
  }));
  return JSON.stringify({ edges, pools: [{ name: 'web', members: edges.map((e) => e.name), count: 1, ttl: 30 }] });
}

/** pouchdb-servers started two at a time: a busy two-core machine fails to start seven at once in time. */
export async function startServers(count: number, onDisk: (i: number) => boolean = () => false): Promise<PouchServer[]> {
  const servers: PouchServer[] = [];
  for (let i = 0; i < count; i += 2) {
    const batch = [i, i + 1].filter((j) => j < count);
    servers.push(...(await Promise.all(batch.map((j) => startPouchServer({ inMemory: !onDisk(j) })))));
  }
  return servers;
}
