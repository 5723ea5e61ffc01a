// RetryingFollower, the one reconnect loop of every index fed by the store (zones, geo, pages, keys, certificates):
// `resume` before each follow, the feed followed on from the checkpoint it answers, failures told to onError and
// retried after a doubling delay up to a cap, the delay back to its first after a success. Against a real
// pouchdb-server stopped and started again, and a server that drops every connection.

import { createServer } from 'node:net';
import t from 'tap';
import { CouchStore } from '../../src/store/couch-store.js';
import { RetryingFollower, type RetryingFollowerOptions } from '../../src/store/retrying-follower.js';
import type { Store } from '../../src/store/store.js';
import { startPouchServer } from '../helpers/pouchdb-server.js';
import { waitFor } from '../helpers/wait-for.js';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

const server = await startPouchServer();
t.teardown(() => server.destroy());

let databases = 0;
function freshStore(t: TapTest, url = server.url): CouchStore {
  const store = new CouchStore({ url, prefix: `edgedns_follow${++databases}_`, longpollMs: 1000 });
  t.teardown(() => store.close());
  return store;
}

function follower(t: TapTest, store: Store, options: RetryingFollowerOptions): RetryingFollower {
  const follower = new RetryingFollower(store, options);
  t.teardown(() => follower.stop());
  return follower;
}

/** A "database" that accepts every connection and drops it at once. */
async function droppingServer(t: TapTest): Promise<string> {
  const net = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => net.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => net.close(() => resolve())));
  const address = net.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return `http://127.0.0.1:${address.port}/`;
}

t.test('a failing feed is followed again after a doubling delay, up to maxBackoffMs', async (t) => {
  const store = freshStore(t, await droppingServer(t));
  const delays: number[] = [];
  const errors: Error[] = [];
  follower(t, store, {
    since: '0',
    maxBackoffMs: 500,
    onChange: () => t.fail('no change from a server that drops every connection'),
    onError: (err, retryInMs) => {
      errors.push(err);
      delays.push(retryInMs);
    },
    onFollowing: () => undefined,
  }).start();
  await waitFor(() => delays.length >= 5, { what: '5 failures', timeoutMs: 5000 });
  t.strictSame(delays.slice(0, 5), [250, 500, 500, 500, 500]);
  t.match(errors[0].message, /CouchDB unreachable/);
});

t.test('resume runs before each follow; the feed goes on from the checkpoint, each change once', async (t) => {
  const store = freshStore(t);
  await store.put({ _id: 'before', value: 0 });
  const resumedFrom: string[] = [];
  const seen: string[] = [];
  const delays: number[] = [];
  let following = 0;
  const retrying = follower(t, store, {
    since: '0',
    resume: async (since) => {
      resumedFrom.push(since);
      // The first time, a "full read": everything up to now is taken as read, the feed follows from its end; then
      // a catch-up from the checkpoint.
      if (resumedFrom.length === 1) return store.updateSeq();
      const batch = await store.changes(since);
      for (const change of batch.results) seen.push(change.id);
      return batch.lastSeq;
    },
    onChange: (change) => seen.push(change.id),
    onError: (_err, retryInMs) => delays.push(retryInMs),
    onFollowing: () => following++,
  });
  retrying.start();
  await waitFor(() => following === 1, { what: 'following after the first resume', timeoutMs: 5000 });
  t.equal(resumedFrom[0], '0', 'the first resume starts from the given checkpoint');
  await store.put({ _id: 'a', value: 1 });
  await waitFor(() => seen.includes('a'), { what: 'change a', timeoutMs: 5000 });
  const afterA = retrying.since;

  await server.stop();
  try {
    await waitFor(() => delays.length >= 2, { what: 'the feed lost, and resume failing once', timeoutMs: 5000 });
  } finally {
    await server.start();
  }
  await store.put({ _id: 'b', value: 2 });
  await waitFor(() => seen.includes('b'), { what: 'change b after the store returned', timeoutMs: 10_000 });
  t.strictSame(seen, ['a', 'b'], 'nothing before the checkpoint resume answered, and no change twice');
  t.equal(delays[0], 250, 'the first failure waits the first delay');
  t.equal(resumedFrom[1], afterA, 'resume after the failure is given the checkpoint after the last change');
  t.equal(following, 2, 'onFollowing once per follow');
});

t.test('a failing resume is told to onError and retried; the delay starts again after a success', async (t) => {
  const store = freshStore(t);
  const delays: number[] = [];
  let resumes = 0;
  let following = 0;
  follower(t, store, {
    since: '0',
    resume: async (since) => {
      if (++resumes <= 2) throw new Error(`resume failure ${resumes}`);
      return since;
    },
    onChange: () => undefined,
    onError: (err, retryInMs) => delays.push(retryInMs),
    onFollowing: () => following++,
  }).start();
  await waitFor(() => following === 1, { what: 'following after two failed resumes', timeoutMs: 5000 });
  t.strictSame(delays, [250, 500], 'each failed resume told with its delay');

  await server.stop();
  try {
    await waitFor(() => delays.length >= 3, { what: 'the feed lost', timeoutMs: 5000 });
  } finally {
    await server.start();
  }
  t.equal(delays[2], 250, 'after a success the delay is the first again');
});
