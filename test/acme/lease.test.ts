// The ACME lease: one holder at a time, taken over once its holder stops extending it (a dead node), the
// cluster-wide back-off after a failed order, which an operator's `cert renew` skips, and no lease for an order that
// is no longer wanted (the node before wrote the certificate just before it freed the lease).

import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LEASE_MS, leaseId, takeLease } from '../../src/acme/lease.js';
import { PouchStore } from '../../src/store/pouch-store.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'edgedns-lease-'));
const store = await PouchStore.open(path.join(dir, 'db'));
t.teardown(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

let clock = Date.parse('2026-01-01T00:00:00Z');
const now = (): number => clock;

t.test('a held lease is refused to others until it expires, then taken over', async (t) => {
  const a = await takeLease(store, 'www.example.com', { nodeId: 'a', settleMs: 0, now });
  t.ok(a.taken, 'a takes the free lease');
  const b = await takeLease(store, 'www.example.com', { nodeId: 'b', settleMs: 0, now });
  t.match(b, { taken: false, reason: 'held', holder: 'a' });
  clock += LEASE_MS + 1; // a died: it no longer extends the lease
  const c = await takeLease(store, 'www.example.com', { nodeId: 'b', settleMs: 0, now });
  t.ok(c.taken, 'b takes it over after the expiry');
  if (c.taken) await c.lease.release({ ok: true });
});

t.test('a failed order makes the whole cluster back off; a forced order does not wait', async (t) => {
  const first = await takeLease(store, 'fail.example.com', { nodeId: 'a', settleMs: 0, now });
  if (!first.taken) return t.fail('not taken');
  const released = await first.lease.release({ ok: false, error: 'urn:ietf:params:acme:error:dns: NXDOMAIN' });
  t.equal(released?.failures, 1);
  t.equal(released?.retryAt, new Date(clock + 60_000).toISOString(), 'one minute after the first failure');
  t.match(await takeLease(store, 'fail.example.com', { nodeId: 'b', settleMs: 0, now }), { taken: false, reason: 'backoff', lastError: /NXDOMAIN/ });
  const forced = await takeLease(store, 'fail.example.com', { nodeId: 'b', settleMs: 0, now, force: true });
  t.ok(forced.taken, 'cert renew goes ahead');
  if (!forced.taken) return;
  t.equal((await forced.lease.release({ ok: false, error: 'again' }))?.retryAt, new Date(clock + 120_000).toISOString(), 'the delay doubles');
});

t.test('a free lease is not taken for an order no longer wanted, and is given back when that shows after winning it', async (t) => {
  const name = 'done.example.com';
  const first = await takeLease(store, name, { nodeId: 'a', settleMs: 0, now });
  if (!first.taken) return t.fail('not taken');
  await first.lease.release({ ok: true });
  const free = await store.get(leaseId(name));
  t.match(await takeLease(store, name, { nodeId: 'b', settleMs: 0, now, stillWanted: async () => false }), { taken: false, reason: 'unwanted' });
  t.equal((await store.get(leaseId(name)))?._rev, free?._rev, 'the lease document is not written');

  // Still wanted when found free, not any more once won (a certificate arrived while b settled): b gives it back.
  const answers = [true, false];
  t.match(await takeLease(store, name, { nodeId: 'b', settleMs: 0, now, stillWanted: async () => answers.shift() ?? true }), { taken: false, reason: 'unwanted' });
  t.equal(answers.length, 0, 'asked twice');
  t.match(await store.get(leaseId(name)), { holder: '', failures: 0, retryAt: undefined }, 'free again, with no back-off');
  const next = await takeLease(store, name, { nodeId: 'c', settleMs: 0, now, stillWanted: async () => true });
  t.ok(next.taken, 'a wanted order takes it');
  if (next.taken) await next.lease.release({ ok: true });
});
