// The promises of the Store interface, checked against any implementation. Every store (embedded PouchDB, CouchDB)
// runs this same suite, so it asserts only what CouchDB also guarantees: sequence values are opaque strings, never
// compared or parsed, and the order of a changes batch is not assumed.

import type t from 'tap';
import { ConflictError, NotFoundError, type Change, type ChangesFollower, type Store } from '../../src/store/store.js';

/** A tap test (the root `t` or any subtest). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];

export interface StoreFixture {
  store: Store;
  /**
   * Opens a new store over the same data, as a restarted process would. The contract closes `store` first, so an
   * embedded store may take the directory lock.
   */
  reopen(): Promise<Store>;
  /**
   * Closes every store this fixture opened and deletes the data. Some tests close `store` themselves, so a store's
   * close must tolerate a second call.
   */
  cleanup(): Promise<void>;
}

/** A revision in the CouchDB format that no document in a fresh database has. */
const UNKNOWN_REV = '1-967a00dff5e02add41819138abb3284d';

/** How long a follower may take to deliver a write. */
const FOLLOW_DEADLINE_MS = 1000;

export function storeContract(t: TapTest, name: string, open: () => Promise<StoreFixture>): Promise<unknown> {
  return t.test(`${name} keeps the Store contract`, async (t) => {
    const test = (title: string, body: (t: TapTest, fixture: StoreFixture) => Promise<void>) =>
      t.test(title, async (t) => {
        const fixture = await open();
        t.teardown(() => fixture.cleanup());
        await body(t, fixture);
      });

    await test('put creates a document that get returns with its revision', async (t, { store }) => {
      const written = await store.put({ _id: 'zone:example.com', kind: 'zone', ttl: 300 });
      t.equal(written.id, 'zone:example.com');
      t.type(written.rev, 'string');
      t.match(await store.get('zone:example.com'), {
        _id: 'zone:example.com',
        _rev: written.rev,
        kind: 'zone',
        ttl: 300,
      });
    });

    await test('get of a document never written is undefined', async (t, { store }) => {
      t.equal(await store.get('zone:nowhere.example'), undefined);
    });

    await test('put with the current revision updates and gives a new revision', async (t, { store }) => {
      const first = await store.put({ _id: 'a', n: 1 });
      const second = await store.put({ _id: 'a', _rev: first.rev, n: 2 });
      t.not(second.rev, first.rev);
      t.match(await store.get('a'), { _rev: second.rev, n: 2 });
    });

    await test('put without a revision over an existing document is a conflict', async (t, { store }) => {
      await store.put({ _id: 'a', n: 1 });
      t.type(await failure(store.put({ _id: 'a', n: 2 })), ConflictError);
      t.match(await store.get('a'), { n: 1 });
    });

    await test('put with a stale revision is a conflict and keeps the newer content', async (t, { store }) => {
      const first = await store.put({ _id: 'a', n: 1 });
      const second = await store.put({ _id: 'a', _rev: first.rev, n: 2 });
      t.type(await failure(store.put({ _id: 'a', _rev: first.rev, n: 3 })), ConflictError);
      t.match(await store.get('a'), { _rev: second.rev, n: 2 });
    });

    await test('concurrent puts of one new id give one winner and one conflict', async (t, { store }) => {
      const outcomes = await Promise.allSettled([store.put({ _id: 'a', n: 1 }), store.put({ _id: 'a', n: 2 })]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      t.equal(won.length, 1, 'one put is written');
      t.equal(lost.length, 1, 'the other is refused');
      t.type(lost[0]?.reason, ConflictError);
    });

    await test('remove deletes the current revision and get then returns undefined', async (t, { store }) => {
      const written = await store.put({ _id: 'a' });
      const removed = await store.remove('a', written.rev);
      t.equal(removed.id, 'a');
      t.not(removed.rev, written.rev);
      t.equal(await store.get('a'), undefined);
    });

    await test('remove with a stale revision is a conflict and keeps the document', async (t, { store }) => {
      const first = await store.put({ _id: 'a', n: 1 });
      await store.put({ _id: 'a', _rev: first.rev, n: 2 });
      t.type(await failure(store.remove('a', first.rev)), ConflictError);
      t.match(await store.get('a'), { n: 2 });
    });

    await test('remove of a document that does not exist is not found', async (t, { store }) => {
      t.type(await failure(store.remove('a', UNKNOWN_REV)), NotFoundError);
    });

    await test('list returns live documents with the prefix in _id order', async (t, { store }) => {
      for (const id of ['rrset:b', 'other:a', 'rrset:c', 'rrset', 'rrsets:a', 'rrset:a', 'rrset;a', 'rrset:d']) {
        await store.put({ _id: id });
      }
      const doomed = await store.get('rrset:d');
      if (doomed?._rev === undefined) throw new Error('rrset:d was just written');
      await store.remove('rrset:d', doomed._rev);

      const listed = await store.list('rrset:');
      t.same(
        listed.map((doc) => doc._id),
        ['rrset:a', 'rrset:b', 'rrset:c'],
        'neither "rrset", "rrsets:a", "rrset;a", other prefixes nor the deleted rrset:d',
      );
      t.ok(listed.every((doc) => typeof doc._rev === 'string'), 'each listed document carries its revision');
      t.same(await store.list('nothing:'), []);
    });

    await test('bulk writes what it can and reports each document on its own', async (t, { store }) => {
      const first = await store.put({ _id: 'a', n: 1 });
      const second = await store.put({ _id: 'a', _rev: first.rev, n: 2 });
      const results = await store.bulk([
        { _id: 'b', n: 1 },
        { _id: 'a', _rev: first.rev, n: 3 },
        { _id: 'c', n: 1 },
      ]);
      t.equal(results.length, 3, 'one result per document, in order');
      t.match(results[0], { id: 'b', rev: String });
      t.equal(results[0]?.error, undefined);
      t.match(results[1], { id: 'a', error: 'conflict' });
      t.match(results[2], { id: 'c', rev: String });
      t.match(await store.get('a'), { _rev: second.rev, n: 2 });
      t.match(await store.get('b'), { n: 1 });
      t.match(await store.get('c'), { n: 1 });
    });

    await test('changes since "0" gives every document with its body', async (t, { store }) => {
      await store.put({ _id: 'a', n: 1 });
      await store.put({ _id: 'b', n: 2 });
      const batch = await store.changes('0');
      t.same(ids(batch.results), ['a', 'b']);
      t.match(batch.results.find((change) => change.id === 'b'), { deleted: false, doc: { _id: 'b', n: 2 } });
    });

    await test('changes since a returned lastSeq gives only later writes', async (t, { store }) => {
      await store.put({ _id: 'a' });
      await store.put({ _id: 'b' });
      const { lastSeq } = await store.changes('0');
      await store.put({ _id: 'c' });
      const later = await store.changes(lastSeq);
      t.same(ids(later.results), ['c']);
      t.not(later.lastSeq, lastSeq, 'the checkpoint moves on');
      t.same(ids((await store.changes(later.lastSeq)).results), [], 'nothing after the newest checkpoint');
    });

    await test('changes honours its limit and resumes from the lastSeq it returned', async (t, { store }) => {
      for (const id of ['a', 'b', 'c']) await store.put({ _id: id });
      const page = await store.changes('0', 2);
      t.equal(page.results.length, 2);
      const rest = await store.changes(page.lastSeq);
      t.same(ids([...page.results, ...rest.results]), ['a', 'b', 'c'], 'each document exactly once');
    });

    await test('changes since "now" starts at the end of the feed', async (t, { store }) => {
      await store.put({ _id: 'a' });
      const now = await store.changes('now');
      t.same(now.results, []);
      await store.put({ _id: 'b' });
      t.same(ids((await store.changes(now.lastSeq)).results), ['b']);
    });

    await test('updateSeq marks the end of the feed', async (t, { store }) => {
      await store.put({ _id: 'a' });
      const end = await store.updateSeq();
      t.same((await store.changes(end)).results, []);
      await store.put({ _id: 'b' });
      t.same(ids((await store.changes(end)).results), ['b']);
    });

    await test('sequence values are strings', async (t, { store }) => {
      const empty = await store.changes('0');
      t.type(empty.lastSeq, 'string', 'lastSeq of an empty database');
      await store.put({ _id: 'a' });
      t.type(await store.updateSeq(), 'string', 'updateSeq');
      const batch = await store.changes('0');
      t.type(batch.lastSeq, 'string', 'lastSeq');
      t.ok(batch.results.length > 0 && batch.results.every((change) => typeof change.seq === 'string'), 'seq');
      const follow = new Follow(store, '0');
      const followed = await follow.waitFor('a').finally(() => follow.follower.cancel());
      t.type(followed.seq, 'string', 'seq of a followed change');
    });

    await test('a deletion appears in changes as deleted', async (t, { store }) => {
      const written = await store.put({ _id: 'a', n: 1 });
      const { lastSeq } = await store.changes('0');
      await store.remove('a', written.rev);
      const batch = await store.changes(lastSeq);
      t.same(ids(batch.results), ['a']);
      t.equal(batch.results[0]?.deleted, true);
      t.match(await store.changes('0'), { results: [{ id: 'a', deleted: true }] }, 'and from the start');
    });

    await test('follow delivers a write within a second', async (t, { store }) => {
      const follow = new Follow(store, await store.updateSeq());
      t.teardown(() => follow.follower.cancel());
      await store.put({ _id: 'a', n: 1 });
      t.match(await follow.waitFor('a'), { id: 'a', deleted: false, doc: { _id: 'a', n: 1 } });
      t.same(follow.errors, []);
    });

    await test('follow replays what happened after since', async (t, { store }) => {
      await store.put({ _id: 'a' });
      const { lastSeq } = await store.changes('0');
      await store.put({ _id: 'b' });
      const follow = new Follow(store, lastSeq);
      t.teardown(() => follow.follower.cancel());
      await follow.waitFor('b');
      t.notOk(follow.changes.some((change) => change.id === 'a'), 'nothing from before since');
    });

    await test('follow delivers deletions as deleted', async (t, { store }) => {
      const written = await store.put({ _id: 'a' });
      const follow = new Follow(store, await store.updateSeq());
      t.teardown(() => follow.follower.cancel());
      await store.remove('a', written.rev);
      t.match(await follow.waitFor('a'), { id: 'a', deleted: true });
    });

    await test('follow delivers nothing once cancel has resolved', async (t, { store }) => {
      const follow = new Follow(store, await store.updateSeq());
      await store.put({ _id: 'a' });
      await follow.waitFor('a');
      await follow.follower.cancel();
      await store.put({ _id: 'b' });
      await delay(300);
      t.same(follow.changes.map((change) => change.id), ['a'], 'b was written after cancel');
      t.same(follow.errors, []);
    });

    await test('close stops followers without reporting an error', async (t, { store }) => {
      const follow = new Follow(store, await store.updateSeq());
      await store.put({ _id: 'a' });
      await follow.waitFor('a');
      await store.close();
      await follow.follower.cancel();
      t.same(follow.errors, []);
    });

    await test('reopening the same data keeps documents, deletions and checkpoints', async (t, fixture) => {
      const { store } = fixture;
      await store.put({ _id: 'a', n: 1 });
      const doomed = await store.put({ _id: 'b' });
      await store.remove('b', doomed.rev);
      const checkpoint = await store.updateSeq();
      await store.close();

      const reopened = await fixture.reopen();
      t.match(await reopened.get('a'), { _id: 'a', n: 1 });
      t.equal(await reopened.get('b'), undefined);
      t.same((await reopened.list('')).map((doc) => doc._id), ['a']);
      const history = await reopened.changes('0');
      t.same(ids(history.results), ['a', 'b']);
      t.match(history.results.find((change) => change.id === 'b'), { deleted: true });
      await reopened.put({ _id: 'c' });
      t.same(ids((await reopened.changes(checkpoint)).results), ['c'], 'a checkpoint from before still resumes');
    });

    await test('getMany returns documents in the order asked, undefined for missing and deleted ones', async (t, { store }) => {
      await store.put({ _id: 'a', n: 1 });
      const doomed = await store.put({ _id: 'b' });
      await store.remove('b', doomed.rev);
      await store.put({ _id: 'c', n: 3 });
      const docs = await store.getMany(['c', 'nowhere', 'b', 'a']);
      t.equal(docs.length, 4);
      t.match(docs[0], { _id: 'c', n: 3 });
      t.equal(docs[1], undefined, 'never written');
      t.equal(docs[2], undefined, 'deleted');
      t.match(docs[3], { _id: 'a', n: 1 });
      t.same(await store.getMany([]), []);
    });

    await test('an attachment is stored as bytes and read back exactly', async (t, { store }) => {
      const meta = await store.put({ _id: 'blob/x', kind: 'blob' });
      const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
      const written = await store.putAttachment('blob/x', 'data', meta.rev, bytes, 'application/octet-stream');
      t.not(written.rev, meta.rev, 'adding an attachment makes a new revision');
      t.same(await store.getAttachment('blob/x', 'data'), bytes);
      const doc = await store.get('blob/x');
      t.match(doc, { kind: 'blob', _attachments: { data: { content_type: 'application/octet-stream' } } }, 'the document lists a stub');
      const [many] = await store.getMany(['blob/x']);
      t.ok(many?._attachments?.data, 'getMany lists the stub too');
    });

    await test('putAttachment without a revision creates the document', async (t, { store }) => {
      await store.putAttachment('fresh', 'data', undefined, Buffer.from('hello'), 'text/plain');
      t.equal((await store.getAttachment('fresh', 'data'))?.toString(), 'hello');
      t.type(await failure(store.putAttachment('fresh', 'data', undefined, Buffer.from('again'), 'text/plain')), ConflictError, 'but not over an existing one');
    });

    await test('putAttachment with a stale revision is a conflict', async (t, { store }) => {
      const first = await store.put({ _id: 'a' });
      await store.put({ _id: 'a', _rev: first.rev, n: 2 });
      t.type(await failure(store.putAttachment('a', 'data', first.rev, Buffer.from('x'), 'text/plain')), ConflictError);
      t.equal(await store.getAttachment('a', 'data'), undefined);
    });

    await test('getAttachment of a missing document or name is undefined', async (t, { store }) => {
      t.equal(await store.getAttachment('nowhere', 'data'), undefined);
      await store.put({ _id: 'a' });
      t.equal(await store.getAttachment('a', 'data'), undefined);
    });

    await test('a large binary attachment survives a round trip', async (t, { store }) => {
      const bytes = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
      await store.putAttachment('big', 'data', undefined, bytes, 'application/octet-stream');
      const back = await store.getAttachment('big', 'data');
      t.equal(back?.length, bytes.length);
      t.ok(back?.equals(bytes), 'same bytes');
    });
  });
}

/** Sorted ids of a changes batch: CouchDB merges its shards' feeds, so a batch has no order to rely on. */
function ids(changes: Change[]): string[] {
  return changes.map((change) => change.id).sort();
}

/** What `promise` rejects with, or undefined when it resolves. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A follower that records what it receives, and lets a test wait for one document's change. */
class Follow {
  readonly changes: Change[] = [];
  readonly errors: Error[] = [];
  readonly follower: ChangesFollower;
  readonly #waiters = new Set<() => void>();

  constructor(store: Store, since: string) {
    this.follower = store.follow({
      since,
      onChange: (change) => {
        this.changes.push(change);
        for (const wake of this.#waiters) wake();
      },
      onError: (err) => {
        this.errors.push(err);
      },
    });
  }

  /** The first change of `id`, or a rejection when none arrives within the deadline. */
  waitFor(id: string, ms = FOLLOW_DEADLINE_MS): Promise<Change> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const change = this.changes.find((c) => c.id === id);
        if (change === undefined) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(change);
      };
      timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no change of ${id} within ${ms} ms`));
      }, ms);
      this.#waiters.add(check);
      check();
    });
  }
}
