// The certbot hook's wait: it returns once every nameserver answers the value, and otherwise fails in bounded
// time naming the servers that lag.

import t from 'tap';
import path from 'node:path';
import { createUDPServer, Packet } from 'dns2';
import { startTestNode } from '../helpers/node.js';
import { freePort } from '../helpers/ports.js';
import { addChallenge } from '../../src/acme/challenges.js';
import { NameserverLagError, waitForNameservers } from '../../src/acme/wait-nameservers.js';

const ZONE = path.resolve('test/fixtures/api/example.test.zone');

t.test('returns when every nameserver answers, fails naming the laggards otherwise', async (t) => {
  const node = await startTestNode({ zoneFiles: [ZONE] });
  t.teardown(() => node.close());
  const fqdn = '_acme-challenge.example.test.';
  await addChallenge(node.node.store, 'example.test.', fqdn, 'ready', { ttl: 60, lifetimeMs: 60_000 });
  const nameservers = [
    { name: 'ns1.example.test.', addresses: ['127.0.0.1'] },
    { name: 'ns2.example.test.', addresses: ['127.0.0.1'] },
  ];

  // a value written a moment later is waited for
  setTimeout(() => void addChallenge(node.node.store, 'example.test.', fqdn, 'later', { ttl: 60, lifetimeMs: 60_000 }), 300);
  const waited = await waitForNameservers(nameservers, fqdn, 'later', { port: node.dnsPort, timeoutMs: 5000, intervalMs: 100 });
  t.same(waited.checked, ['ns1.example.test. 127.0.0.1', 'ns2.example.test. 127.0.0.1']);
  t.ok(waited.ms >= 200, `waited for the value (${waited.ms} ms)`);

  const silent = await freePort(); // nothing listens there: a nameserver that never answers
  const started = Date.now();
  const err = await waitForNameservers([...nameservers, { name: 'ns3.example.test.', addresses: ['127.0.0.1'] }], fqdn, 'ready', { port: silent, timeoutMs: 1500, intervalMs: 250 }).catch((e: unknown) => e);
  t.ok(err instanceof NameserverLagError, 'a timeout is a NameserverLagError');
  t.match((err as Error).message, /ns1\.example\.test\. 127\.0\.0\.1, ns2\.example\.test\. 127\.0\.0\.1, ns3/, 'it names every server that lags');
  t.ok(Date.now() - started < 5000, 'and gives up in bounded time');
});

t.test('a server that answers the value without authority (AA clear) is still waited for', async (t) => {
  // what a resolver's cache or a stale secondary looks like: the right TXT, but not from the zone's authority
  const server = createUDPServer((request, send) => {
    const reply = Packet.createResponseFromRequest(request);
    reply.header.aa = 0;
    reply.answers.push({ name: request.questions[0].name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data: 'token' } as never);
    send(reply);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = server.address().port;
  const err = await waitForNameservers([{ name: 'ns.example.test.', addresses: ['127.0.0.1'] }], '_acme-challenge.example.test.', 'token', { port, timeoutMs: 600, intervalMs: 200 }).catch((e: unknown) => e);
  t.ok(err instanceof NameserverLagError, 'a non-authoritative copy of the value does not count');
});
