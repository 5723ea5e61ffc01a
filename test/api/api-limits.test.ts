// What an unauthenticated or hostile client can make the API do (issue 12): nothing with a body before the key is
// checked, no more than 1 MiB of JSON (10 MiB of zone file), no key in a URL and none in the log, no lockout of a
// valid key by someone else's failures, and no connection held open by a client that never finishes its request.
// One node for the file, with short API deadlines (--api-headers-timeout, --api-request-timeout); requests go
// in-process through inject() except where the socket is the point.

import { connect, type Socket } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { startTestNode } from '../helpers/node.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');

const node = await startTestNode({
  zoneFiles: [ZONE],
  logLevel: 'info',
  flags: { geoip: 'none', 'acme-directory': 'none', 'api-headers-timeout': '0.5', 'api-request-timeout': '1.5' },
});
t.teardown(() => node.close());

/** A counter's samples with `labels`, read as what was added to them after this call. */
async function counter(name: string, labels: Record<string, string> = {}): Promise<() => Promise<number>> {
  const start = await node.metricTotal(name, labels);
  return async () => (await node.metricTotal(name, labels)) - start;
}

t.test('a request without a valid key never has its body read', async (t) => {
  const send = (url: string, key: string | null, headers: Record<string, string> = {}) =>
    node.api('POST', url, { key, headers: { 'content-type': 'application/json', ...headers }, body: '{not json' });

  const valid = await send('/v1/keys', node.adminKey);
  t.equal(valid.status, 400, 'with a valid key the body is parsed (and is bad)');
  for (const [what, key] of [
    ['no key', null],
    ['an unknown key', 'edg_nottherightone'],
  ] as const) {
    const r = await send('/v1/keys', key);
    t.equal(r.status, 401, `${what}: 401, not the parser's 400`);
    t.equal(r.body.error.code, 'unauthorized');
  }
  const unknownRoute = await send('/v1/no-such-route', null);
  t.equal(unknownRoute.status, 401, 'an unknown URL needs a key too: a 404 is no reason to read a body');
  const zoneKey = (await node.api('POST', '/v1/keys', { body: { scope: 'zone:example.test' } })).body.secret;
  const scoped = await send('/v1/keys', zoneKey);
  t.equal(scoped.status, 403, "an admin route checks the key's scope before the body too");
  const acmeDns = await send('/update', null, { 'x-api-user': '00000000-0000-0000-0000-000000000000', 'x-api-key': 'x' });
  t.equal(acmeDns.status, 401, 'acme-dns /update checks its registration before the body');
});

t.test('JSON bodies are limited to 1 MiB, zone files to 10 MiB, each refused with 413 naming the body', async (t) => {
  const tooLarge = await counter('edgedns_api_errors_total', { code: 'payload_too_large' });
  const json = await node.api('POST', '/v1/keys', { body: { scope: 'admin', name: 'x'.repeat(1.5 * 1024 * 1024) } });
  t.equal(json.status, 413);
  t.match(json.body.error, { code: 'payload_too_large', field: 'body' });
  // A 2 MiB zone file is read (and parsed: its last line is bad), not refused for its size.
  const comments = '; padding\n'.repeat(200_000);
  const zoneFile = (text: string) => node.api('POST', '/v1/zones?file=big.zone', { headers: { 'content-type': 'text/dns' }, body: text });
  const big = await zoneFile(`$ORIGIN big.test.\n${comments}www 300 IN A 300.0.0.1\n`);
  t.equal(big.status, 400, JSON.stringify(big.body));
  t.match(big.body.error, { code: 'invalid_zone_file', message: /^big\.zone:\d+: / });
  const huge = await zoneFile(`$ORIGIN big.test.\n${comments.repeat(6)}`);
  t.equal(huge.status, 413);
  t.equal(await tooLarge(), 2, 'edgedns_api_errors_total{code="payload_too_large"} counts both');
});

t.test('a key in the query string is refused and never logged', async (t) => {
  const inQuery = await counter('edgedns_api_errors_total', { code: 'key_in_query' });
  const secret = node.adminKey;
  for (const url of [`/v1/zones?api_key=${secret}`, `/v1/zones?token=${secret}`, `/v1/zones?whatever=${secret}`, `/healthz?key=${secret}`]) {
    const r = await node.api('GET', url, { key: null, headers: { authorization: `Bearer ${secret}` } });
    t.equal(r.status, 400, url.replace(secret, 'KEY'));
    t.match(r.body.error, { code: 'key_in_query', field: url.slice(url.indexOf('?') + 1, url.indexOf('=')), message: /not accepted in the URL.*revoke it/ });
  }
  t.ok(node.logs().includes('"url":"/v1/zones?api_key=REDACTED"'), 'the URL is logged with the value replaced');
  t.notOk(node.logs().includes(secret), 'the key appears nowhere in the log');
  t.equal(await inQuery(), 4, 'edgedns_api_errors_total{code="key_in_query"} counts each');
});

t.test('failed authentications are limited per address and per key, and a valid key is never locked out', async (t) => {
  const unknown = await counter('edgedns_api_auth_failures_total', { reason: 'unknown' });
  const limitedTotal = await counter('edgedns_api_auth_rate_limited_total');
  const get = (key: string | null, remoteAddress: string) => node.api('GET', '/v1/zones', { key, remoteAddress });
  const nat = '198.51.100.7';
  for (let i = 0; i < 20; i++) t.equal((await get(`edg_guess${i}`, nat)).status, 401, `guess ${i} from one address`);
  const limited = await get('edg_guess-again', nat);
  t.equal(limited.status, 429, 'the address is limited after 20 failures');
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After says when');
  t.equal((await get(null, nat)).status, 429, 'no key from that address: 429 without a lookup');
  t.equal((await get(node.adminKey, nat)).status, 200, 'a valid key from the same address (the certbot behind the same NAT) still works');

  // One revoked or guessed key tried from many addresses is limited as a key.
  for (let i = 0; i < 20; i++) await get('edg_leaked', `203.0.113.${i + 1}`);
  t.equal((await get('edg_leaked', '203.0.113.200')).status, 429, 'the same bad key from a fresh address');
  t.equal((await get('edg_other', '203.0.113.200')).status, 401, 'that fresh address is not limited for other keys');
  t.equal(await unknown(), 42, 'edgedns_api_auth_failures_total{reason="unknown"}: every unknown key, limited or not');
  t.equal(await limitedTotal(), 3, 'edgedns_api_auth_rate_limited_total: the three 429s');
});

/** Opens a raw connection, writes `text`, and resolves with what the server sent once it closes (or '' on timeout). */
function rawExchange(port: number, text: string, waitMs: number): Promise<{ received: string; closedAfterMs: number | undefined }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closedAfterMs: undefined });
    }, waitMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closedAfterMs: Date.now() - started });
    });
  });
}

t.test('slow and oversized clients on a real socket', async (t) => {
  const timeouts = await counter('edgedns_api_client_errors_total', { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
  const port = node.apiPort;

  const headers = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 5000);
  t.ok(headers.closedAfterMs !== undefined && headers.closedAfterMs < 3000, `headers never finished: cut off after ${headers.closedAfterMs} ms`);
  t.match(headers.received, /^HTTP\/1\.1 408/);

  const key = node.adminKey;
  const trickle = await rawExchange(port, `POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"scope":`, 6000);
  t.ok(trickle.closedAfterMs !== undefined && trickle.closedAfterMs < 4000, `body never finished: cut off after ${trickle.closedAfterMs} ms`);
  t.match(trickle.received, /^HTTP\/1\.1 408/);

  // 10 MB announced without a key: answered at once, connection closed, the body never read.
  const flood = await rawExchange(port, `POST /v1/zones HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"a":`, 5000);
  t.ok(flood.closedAfterMs !== undefined && flood.closedAfterMs < 1000, `closed after ${flood.closedAfterMs} ms`);
  t.match(flood.received, /^HTTP\/1\.1 401/);
  t.match(flood.received, /\r\nconnection: close\r\n/i);
  t.equal(await timeouts(), 2, 'edgedns_api_client_errors_total{code="ERR_HTTP_REQUEST_TIMEOUT"} counts both 408s');
});
