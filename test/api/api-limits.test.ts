// What an unauthenticated or hostile client can make the API do (issue 12): nothing with a body before the key is
// checked, no more than 1 MiB of JSON (10 MiB of zone file), no key in a URL and none in the log, no lockout of a
// valid key by someone else's failures, and no connection held open by a client that never finishes its request.

import { connect, type Socket } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { fullApi } from './full-api.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');

t.test('a request without a valid key never has its body read', async (t) => {
  const api = await fullApi([ZONE]);
  t.teardown(() => api.close());
  const notJson = { 'content-type': 'application/json' };
  const send = (url: string, headers: Record<string, string>) => api.app.inject({ method: 'POST', url, headers: { ...notJson, ...headers }, payload: '{not json' });

  const valid = await send('/v1/keys', { authorization: `Bearer ${api.admin}` });
  t.equal(valid.statusCode, 400, 'with a valid key the body is parsed (and is bad)');
  for (const [what, headers] of [
    ['no key', {}],
    ['an unknown key', { authorization: 'Bearer edg_nottherightone' }],
  ] as const) {
    const r = await send('/v1/keys', headers);
    t.equal(r.statusCode, 401, `${what}: 401, not the parser's 400`);
    t.equal(r.json().error.code, 'unauthorized');
  }
  const unknownRoute = await send('/v1/no-such-route', {});
  t.equal(unknownRoute.statusCode, 401, 'an unknown URL needs a key too: a 404 is no reason to read a body');
  const zoneKey = await api.key('zone:example.test');
  const scoped = await send('/v1/keys', { authorization: `Bearer ${zoneKey}` });
  t.equal(scoped.statusCode, 403, "an admin route checks the key's scope before the body too");
  const acmeDns = await send('/update', { 'x-api-user': '00000000-0000-0000-0000-000000000000', 'x-api-key': 'x' });
  t.equal(acmeDns.statusCode, 401, 'acme-dns /update checks its registration before the body');
});

t.test('JSON bodies are limited to 1 MiB, zone files to 10 MiB, each refused with 413 naming the body', async (t) => {
  const api = await fullApi([ZONE]);
  t.teardown(() => api.close());
  const auth = { authorization: `Bearer ${api.admin}` };
  const json = await api.app.inject({ method: 'POST', url: '/v1/keys', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ scope: 'admin', name: 'x'.repeat(1.5 * 1024 * 1024) }) });
  t.equal(json.statusCode, 413);
  t.match(json.json().error, { code: 'payload_too_large', field: 'body' });
  // A 2 MiB zone file is read (and parsed: its last line is bad), not refused for its size.
  const comments = '; padding\n'.repeat(200_000);
  const zoneFile = (text: string) => api.app.inject({ method: 'POST', url: '/v1/zones?file=big.zone', headers: { ...auth, 'content-type': 'text/dns' }, payload: text });
  const big = await zoneFile(`$ORIGIN big.test.\n${comments}www 300 IN A 300.0.0.1\n`);
  t.equal(big.statusCode, 400, JSON.stringify(big.json()));
  t.match(big.json().error, { code: 'invalid_zone_file', message: /^big\.zone:\d+: / });
  const huge = await zoneFile(`$ORIGIN big.test.\n${comments.repeat(6)}`);
  t.equal(huge.statusCode, 413);
  const metrics = await api.registry.metrics();
  t.match(metrics, /edgedns_api_errors_total\{code="payload_too_large"\} 2/);
});

t.test('a key in the query string is refused and never logged', async (t) => {
  const api = await fullApi([ZONE]);
  t.teardown(() => api.close());
  const secret = api.admin;
  for (const url of [`/v1/zones?api_key=${secret}`, `/v1/zones?token=${secret}`, `/v1/zones?whatever=${secret}`, `/healthz?key=${secret}`]) {
    const r = await api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${secret}` } });
    t.equal(r.statusCode, 400, url.replace(secret, 'KEY'));
    t.match(r.json().error, { code: 'key_in_query', field: url.slice(url.indexOf('?') + 1, url.indexOf('=')), message: /not accepted in the URL.*revoke it/ });
  }
  t.ok(api.logs().includes('"url":"/v1/zones?api_key=REDACTED"'), 'the URL is logged with the value replaced');
  t.notOk(api.logs().includes(secret), 'the key appears nowhere in the log');
  t.match(await api.registry.metrics(), /edgedns_api_errors_total\{code="key_in_query"\} 4/);
});

t.test('failed authentications are limited per address and per key, and a valid key is never locked out', async (t) => {
  const api = await fullApi([ZONE]);
  t.teardown(() => api.close());
  const get = (key: string | undefined, remoteAddress: string) =>
    api.app.inject({ method: 'GET', url: '/v1/zones', remoteAddress, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });
  const nat = '198.51.100.7';
  for (let i = 0; i < 20; i++) t.equal((await get(`edg_guess${i}`, nat)).statusCode, 401, `guess ${i} from one address`);
  const limited = await get('edg_guess-again', nat);
  t.equal(limited.statusCode, 429, 'the address is limited after 20 failures');
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when');
  t.equal((await get(undefined, nat)).statusCode, 429, 'no key from that address: 429 without a lookup');
  t.equal((await get(api.admin, nat)).statusCode, 200, 'a valid key from the same address (the certbot behind the same NAT) still works');

  // One revoked or guessed key tried from many addresses is limited as a key.
  for (let i = 0; i < 20; i++) await get('edg_leaked', `203.0.113.${i + 1}`);
  t.equal((await get('edg_leaked', '203.0.113.200')).statusCode, 429, 'the same bad key from a fresh address');
  t.equal((await get('edg_other', '203.0.113.200')).statusCode, 401, 'that fresh address is not limited for other keys');
  const metrics = await api.registry.metrics();
  t.match(metrics, /edgedns_api_auth_failures_total\{reason="unknown"\} 42/);
  t.match(metrics, /edgedns_api_auth_rate_limited_total 3/);
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
  const api = await fullApi([ZONE], { timeouts: { headersMs: 500, requestMs: 1500 } });
  t.teardown(() => api.close());
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (api.app.server.address() as { port: number }).port;

  const headers = await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 5000);
  t.ok(headers.closedAfterMs !== undefined && headers.closedAfterMs < 3000, `headers never finished: cut off after ${headers.closedAfterMs} ms`);
  t.match(headers.received, /^HTTP\/1\.1 408/);

  const key = api.admin;
  const trickle = await rawExchange(port, `POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"scope":`, 6000);
  t.ok(trickle.closedAfterMs !== undefined && trickle.closedAfterMs < 4000, `body never finished: cut off after ${trickle.closedAfterMs} ms`);
  t.match(trickle.received, /^HTTP\/1\.1 408/);

  // 10 MB announced without a key: answered at once, connection closed, the body never read.
  const flood = await rawExchange(port, `POST /v1/zones HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{"a":`, 5000);
  t.ok(flood.closedAfterMs !== undefined && flood.closedAfterMs < 1000, `closed after ${flood.closedAfterMs} ms`);
  t.match(flood.received, /^HTTP\/1\.1 401/);
  t.match(flood.received, /\r\nconnection: close\r\n/i);
  t.match(await api.registry.metrics(), /edgedns_api_client_errors_total\{code="ERR_HTTP_REQUEST_TIMEOUT"\} 2/);
});
