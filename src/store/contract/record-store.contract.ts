// One contract suite that every RecordStore adapter must pass (memory, SQLite, PostgreSQL).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { collectionDigest, EMPTY_DIGEST } from '../../core/digest.js';
import { contentHash } from '../../core/hash.js';
import type { NewCollection, PreparedChange, User } from '../../core/model.js';
import type { RecordStore } from '../../core/ports/record-store.js';
import { describeDuplicates } from './duplicates.contract.js';
import { describeBackupReads } from './backup-reads.contract.js';
import { describePurge } from './purge.contract.js';
import { describeTrash } from './trash.contract.js';
import { describeRestore } from './restore.contract.js';
import { describeUnsettledReads } from './unsettled-reads.contract.js';

export interface RecordStoreFactory {
  /** A new, empty store. */
  open(): Promise<RecordStore>;
  /** Close `store` and open the same data again; omitted for stores that do not persist. */
  reopen?(store: RecordStore): Promise<RecordStore>;
  /** A second handle on the same data, as a second server process would have; optional. */
  openSibling?(store: RecordStore): Promise<RecordStore>;
}

const NOW = '2026-01-01T00:00:00.000Z';
export const COLLECTIONS: NewCollection[] = [
  { id: 'contacts', kind: 'contacts', name: 'Contacts' },
  { id: 'notes', kind: 'notes', name: 'Notes' },
];

export function newUser(name = `u-${randomUUID().slice(0, 8)}`): User {
  return { id: randomUUID(), name, passwordHash: 'scrypt$test', admin: false, createdAt: NOW, deletedAt: null };
}

export function note(id: string, body: string, baseVersion: number | null = null, changeId = randomUUID()): PreparedChange {
  const content = JSON.stringify({ body, title: id });
  return { changeId, collection: 'notes', id, baseVersion, deleted: false, content, hash: contentHash(content) };
}

export function del(id: string, baseVersion: number, changeId = randomUUID()): PreparedChange {
  return { changeId, collection: 'notes', id, baseVersion, deleted: true, content: null, hash: null };
}

/** Registers the contract tests for one adapter. */
export function describeRecordStore(name: string, factory: RecordStoreFactory): void {
  describeRestore(name, factory);
  describeDuplicates(name, factory);
  describeTrash(name, factory);
  describePurge(name, factory);
  describeUnsettledReads(name, factory);
  describeBackupReads(name, factory);
  describe(`RecordStore contract: ${name}`, () => {
    const opened: RecordStore[] = [];
    const open = async () => {
      const s = await factory.open();
      opened.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });

    async function withUser(): Promise<{ sut: RecordStore; user: User }> {
      const sut = await open();
      const user = await sut.createUser(newUser(), COLLECTIONS);
      return { sut, user };
    }

    it('has an identity with epoch 1 that stays the same', async () => {
      const sut = await open();
      const a = await sut.identity();
      assert.equal(a.epoch, 1);
      assert.ok(a.id.length > 0);
      assert.deepEqual(await sut.identity(), a);
    });

    it('creates users with their collections and refuses a taken name', async () => {
      const sut = await open();
      const u = newUser('alice');
      await sut.createUser(u, COLLECTIONS);
      assert.equal((await sut.getUser(u.id))?.name, 'alice');
      assert.equal((await sut.findUserByName('alice'))?.id, u.id);
      assert.equal(await sut.findUserByName('bob'), null);
      assert.equal(await sut.getUser(randomUUID()), null);
      const cols = await sut.listCollections(u.id);
      assert.deepEqual(cols.map((c) => [c.id, c.kind, c.count, c.digest]), [
        ['contacts', 'contacts', 0, EMPTY_DIGEST],
        ['notes', 'notes', 0, EMPTY_DIGEST],
      ]);
      await assert.rejects(sut.createUser(newUser('alice'), []), { code: 'user_exists' });
      assert.equal((await sut.listUsers()).length, 1);
    });

    it('updates and soft-deletes users', async () => {
      const { sut, user } = await withUser();
      const u = await sut.updateUser(user.id, { admin: true, deletedAt: NOW, passwordHash: 'scrypt$new' });
      assert.equal(u.admin, true);
      assert.equal(u.deletedAt, NOW);
      assert.equal((await sut.getUser(user.id))?.passwordHash, 'scrypt$new');
      await assert.rejects(sut.updateUser(randomUUID(), { admin: true }), { code: 'user_not_found' });
    });

    it('stores tokens by hash and deletes only the owner\'s', async () => {
      const { sut, user } = await withUser();
      const other = await sut.createUser(newUser(), []);
      const t = { id: randomUUID(), userId: user.id, device: 'phone', tokenHash: 'h1', createdAt: NOW, lastUsedAt: null };
      await sut.createToken(t);
      assert.deepEqual(await sut.findTokenByHash('h1'), t);
      assert.equal(await sut.findTokenByHash('nope'), null);
      assert.equal((await sut.listTokens(user.id)).length, 1);
      assert.equal((await sut.listTokens(other.id)).length, 0);
      await sut.touchToken(t.id, '2026-02-01T00:00:00.000Z');
      assert.equal((await sut.findTokenByHash('h1'))?.lastUsedAt, '2026-02-01T00:00:00.000Z');
      assert.equal(await sut.deleteToken(other.id, t.id), false);
      assert.equal(await sut.deleteToken(user.id, t.id), true);
      assert.equal(await sut.findTokenByHash('h1'), null);
    });

    it('creates, renames and soft-deletes collections', async () => {
      const { sut, user } = await withUser();
      const c = await sut.createCollection(user.id, { id: 'work', kind: 'calendar', name: 'Work' }, NOW);
      assert.equal(c.kind, 'calendar');
      await assert.rejects(sut.createCollection(user.id, { id: 'work', kind: 'calendar', name: 'x' }, NOW), { code: 'collection_exists' });
      assert.equal((await sut.updateCollection(user.id, 'work', { name: 'Job' })).name, 'Job');
      await sut.updateCollection(user.id, 'work', { deletedAt: NOW });
      assert.deepEqual((await sut.listCollections(user.id)).map((c) => c.id), ['contacts', 'notes']);
      assert.equal((await sut.listCollections(user.id, { includeDeleted: true })).length, 3);
      await assert.rejects(sut.updateCollection(user.id, 'nope', { name: 'x' }), { code: 'collection_not_found' });
      assert.equal(await sut.getCollection(user.id, 'nope'), null);
    });

    it('applies a new item with the next sequence number as version', async () => {
      const { sut, user } = await withUser();
      const [r] = await sut.applyChanges(user.id, [note('n1', 'hello')], NOW);
      assert.equal(r.status, 'applied');
      assert.ok(r.status === 'applied');
      assert.equal(r.item.version, 1);
      assert.equal(r.item.modified, NOW);
      const got = await sut.getItem(user.id, 'notes', 'n1');
      assert.deepEqual(got, r.item);
      assert.equal(await sut.lastSeq(user.id), 1);
      const col = await sut.getCollection(user.id, 'notes');
      assert.equal(col?.count, 1);
      assert.equal(col?.digest, collectionDigest([{ id: 'n1', hash: r.item.hash }]));
      assert.equal(col?.lastChangeAt, NOW);
    });

    it('updates with a current base and keeps the old version as a revision', async () => {
      const { sut, user } = await withUser();
      const [a] = await sut.applyChanges(user.id, [note('n1', 'v1')], NOW);
      assert.ok(a.status === 'applied');
      const [b] = await sut.applyChanges(user.id, [note('n1', 'v2', a.item.version)], NOW);
      assert.ok(b.status === 'applied');
      assert.equal(b.item.version, 2);
      const revs = await sut.listRevisions(user.id, 'notes', 'n1');
      assert.equal(revs.length, 1);
      assert.equal(revs[0].reason, 'overwritten');
      assert.equal(revs[0].content, a.item.content);
      assert.equal(revs[0].version, 1);
      assert.deepEqual(await sut.getRevision(user.id, 'notes', 'n1', 1), revs[0]);
      assert.equal(await sut.getRevision(user.id, 'notes', 'n1', 99), null);
      const col = await sut.getCollection(user.id, 'notes');
      assert.equal(col?.count, 1);
      assert.equal(col?.digest, collectionDigest([{ id: 'n1', hash: b.item.hash }]));
    });

    it('answers a stale base with conflict, keeps the current item and the losing content', async () => {
      const { sut, user } = await withUser();
      const [a] = await sut.applyChanges(user.id, [note('n1', 'v1')], NOW);
      assert.ok(a.status === 'applied');
      const [b] = await sut.applyChanges(user.id, [note('n1', 'from phone', 1)], NOW);
      assert.ok(b.status === 'applied');
      const losing = note('n1', 'from laptop', 1);
      const [c] = await sut.applyChanges(user.id, [losing], NOW);
      assert.equal(c.status, 'conflict');
      assert.ok(c.status === 'conflict');
      assert.deepEqual(c.item, b.item);
      assert.ok(c.revision > b.item.version);
      const kept = await sut.getRevision(user.id, 'notes', 'n1', c.revision);
      assert.equal(kept?.reason, 'conflict');
      assert.equal(kept?.content, losing.content);
      assert.deepEqual(await sut.getItem(user.id, 'notes', 'n1'), b.item);
    });

    it('deletes softly: a tombstone, a deleted revision, and undelete by edit', async () => {
      const { sut, user } = await withUser();
      const [a] = await sut.applyChanges(user.id, [note('n1', 'v1'), note('n2', 'other')], NOW);
      assert.ok(a.status === 'applied');
      const [d] = await sut.applyChanges(user.id, [del('n1', a.item.version)], NOW);
      assert.ok(d.status === 'applied');
      assert.equal(d.item.deleted, true);
      assert.equal(d.item.content, null);
      assert.equal(d.item.hash, a.item.hash);
      const revs = await sut.listRevisions(user.id, 'notes', 'n1');
      assert.equal(revs[0].reason, 'deleted');
      assert.equal(revs[0].content, a.item.content);
      assert.deepEqual((await sut.listTrash(user.id, 10)).map((r) => [r.id, r.reason, r.hash]), [['n1', 'deleted', revs[0].hash]]);
      assert.deepEqual((await sut.listItems(user.id, 'notes', { limit: 10 })).map((i) => i.id), ['n2']);
      assert.equal((await sut.listItems(user.id, 'notes', { limit: 10, includeDeleted: true })).length, 2);
      let col = await sut.getCollection(user.id, 'notes');
      assert.equal(col?.count, 1);
      const n2 = await sut.getItem(user.id, 'notes', 'n2');
      assert.equal(col?.digest, collectionDigest([{ id: 'n2', hash: n2!.hash }]));
      // deleting again is a no-op; deleting what never existed is `missing`
      const [again] = await sut.applyChanges(user.id, [del('n1', d.item.version)], NOW);
      assert.equal(again.status, 'applied');
      const [missing] = await sut.applyChanges(user.id, [del('ghost', 0)], NOW);
      assert.equal(missing.status, 'missing');
      // an edit resurrects
      const [u] = await sut.applyChanges(user.id, [note('n1', 'back', 0)], NOW);
      assert.ok(u.status === 'applied');
      assert.equal(u.item.deleted, false);
      col = await sut.getCollection(user.id, 'notes');
      assert.equal(col?.count, 2);
    });

    it('a stale delete is a conflict and deletes nothing', async () => {
      const { sut, user } = await withUser();
      await sut.applyChanges(user.id, [note('n1', 'v1')], NOW);
      await sut.applyChanges(user.id, [note('n1', 'v2', 1)], NOW);
      const [r] = await sut.applyChanges(user.id, [del('n1', 1)], NOW);
      assert.equal(r.status, 'conflict');
      assert.equal((await sut.getItem(user.id, 'notes', 'n1'))?.deleted, false);
      assert.equal((await sut.getCollection(user.id, 'notes'))?.count, 1);
    });

    it('pushing identical bytes again is applied without a new version', async () => {
      const { sut, user } = await withUser();
      const [a] = await sut.applyChanges(user.id, [note('n1', 'same')], NOW);
      const [b] = await sut.applyChanges(user.id, [note('n1', 'same', 0)], NOW);
      assert.ok(a.status === 'applied' && b.status === 'applied');
      assert.equal(b.item.version, a.item.version);
      assert.equal(await sut.lastSeq(user.id), 1);
    });

    it('lists changes in sequence order, paged, including tombstones', async () => {
      const { sut, user } = await withUser();
      const batch = Array.from({ length: 25 }, (_, i) => note(`n${String(i).padStart(2, '0')}`, `b${i}`));
      await sut.applyChanges(user.id, batch, NOW);
      await sut.applyChanges(user.id, [del('n03', 4)], NOW);
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await sut.listChanges(user.id, after, 10);
        if (page.length === 0) break;
        seen.push(...page.map((i) => i.version));
        after = page[page.length - 1].version;
      }
      assert.equal(seen.length, 25);
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
      assert.equal(seen[seen.length - 1], 26);
      const tail = await sut.listChanges(user.id, 25, 10);
      assert.deepEqual(tail.map((i) => [i.id, i.deleted]), [['n03', true]]);
    });

    it('pages items of a collection by id', async () => {
      const { sut, user } = await withUser();
      await sut.applyChanges(user.id, ['c', 'a', 'b', 'd'].map((id) => note(id, id)), NOW);
      const p1 = await sut.listItems(user.id, 'notes', { limit: 2 });
      const p2 = await sut.listItems(user.id, 'notes', { limit: 2, afterId: p1[1].id });
      assert.deepEqual([...p1, ...p2].map((i) => i.id), ['a', 'b', 'c', 'd']);
    });

    it('keeps users apart: same ids, separate sequences and items', async () => {
      const sut = await open();
      const a = await sut.createUser(newUser(), COLLECTIONS);
      const b = await sut.createUser(newUser(), COLLECTIONS);
      await sut.applyChanges(a.id, [note('n1', 'alice')], NOW);
      const [rb] = await sut.applyChanges(b.id, [note('n1', 'bob')], NOW);
      assert.ok(rb.status === 'applied');
      assert.equal(rb.item.version, 1);
      assert.match((await sut.getItem(a.id, 'notes', 'n1'))!.content!, /alice/);
      assert.equal((await sut.listChanges(b.id, 0, 10)).length, 1);
      await sut.addBlobRef(a.id, contentHash('x'));
      assert.equal(await sut.hasBlobRef(a.id, contentHash('x')), true);
      assert.equal(await sut.hasBlobRef(b.id, contentHash('x')), false);
      await sut.addBlobRef(a.id, contentHash('x'));
    });

    it('concurrent writers get unique sequence numbers and lose no update', async () => {
      const { sut, user } = await withUser();
      const [first] = await sut.applyChanges(user.id, [note('shared', 'v0')], NOW);
      assert.ok(first.status === 'applied');
      const writes = Array.from({ length: 40 }, (_, i) =>
        sut.applyChanges(user.id, [note(`own${i}`, `x${i}`), note('shared', `edit ${i}`, first.item.version)], NOW),
      );
      const results = (await Promise.all(writes)).flat();
      const versions = results.flatMap((r) => (r.status === 'applied' ? [r.item.version] : r.status === 'conflict' ? [r.revision] : []));
      assert.equal(new Set(versions).size, versions.length, 'no sequence number is handed out twice');
      const sharedOutcomes = results.filter((_, i) => i % 2 === 1);
      assert.equal(sharedOutcomes.filter((r) => r.status === 'applied').length, 1, 'exactly one edit wins');
      assert.equal(sharedOutcomes.filter((r) => r.status === 'conflict').length, 39, 'the rest are conflicts, kept');
      assert.equal((await sut.listRevisions(user.id, 'notes', 'shared')).length, 40);
      const col = await sut.getCollection(user.id, 'notes');
      const live = await sut.listItems(user.id, 'notes', { limit: 1000 });
      assert.equal(col?.count, 41);
      assert.equal(col?.digest, collectionDigest(live));
    });

    it('prunes revisions older than the cutoff', async () => {
      const { sut, user } = await withUser();
      await sut.applyChanges(user.id, [note('n1', 'v1')], '2026-01-01T00:00:00.000Z');
      await sut.applyChanges(user.id, [note('n1', 'v2', 1)], '2026-01-01T00:00:00.000Z');
      await sut.applyChanges(user.id, [note('n1', 'v3', 2)], '2026-03-01T00:00:00.000Z');
      assert.equal(await sut.pruneRevisions('2026-02-01T00:00:00.000Z'), 1);
      assert.deepEqual((await sut.listRevisions(user.id, 'notes', 'n1')).map((r) => r.version), [2]);
    });

    it('reports stats', async () => {
      const { sut, user } = await withUser();
      await sut.applyChanges(user.id, [note('a', 'a'), note('b', 'b')], NOW);
      const st = await sut.stats();
      assert.equal(st.users, 1);
      assert.equal(st.liveItems, 2);
      assert.ok(st.bytes > 0);
    });

    it('treats hostile ids as data', async () => {
      const { sut, user } = await withUser();
      const id = "x'; DROP TABLE items; --";
      const [r] = await sut.applyChanges(user.id, [note(id, 'v')], NOW);
      assert.equal(r.status, 'applied');
      assert.equal((await sut.getItem(user.id, 'notes', id))?.id, id);
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it('keeps everything across close and reopen', async () => {
        const { sut, user } = await withUser();
        const id1 = await sut.identity();
        await sut.applyChanges(user.id, [note('n1', 'v1'), note('n1', 'v2', 1)], NOW);
        const again = await reopen(sut);
        opened.push(again);
        assert.deepEqual(await again.identity(), id1);
        assert.equal((await again.getItem(user.id, 'notes', 'n1'))?.version, 2);
        assert.equal(await again.lastSeq(user.id), 2);
        assert.equal((await again.listRevisions(user.id, 'notes', 'n1')).length, 1);
        const [r] = await again.applyChanges(user.id, [note('n2', 'x')], NOW);
        assert.ok(r.status === 'applied');
        assert.equal(r.item.version, 3);
      });
    }

    if (factory.openSibling) {
      const openSibling = factory.openSibling;
      it('two handles on one database never hand out a sequence number twice', async () => {
        const { sut, user } = await withUser();
        const sibling = await openSibling(sut);
        opened.push(sibling);
        const [first] = await sut.applyChanges(user.id, [note('shared', 'v0')], NOW);
        assert.ok(first.status === 'applied');
        const writes = Array.from({ length: 30 }, (_, i) =>
          (i % 2 ? sut : sibling).applyChanges(user.id, [note(`own${i}`, `x${i}`), note('shared', `e${i}`, first.item.version)], NOW),
        );
        const results = (await Promise.all(writes)).flat();
        const versions = results.flatMap((r) => (r.status === 'applied' ? [r.item.version] : r.status === 'conflict' ? [r.revision] : []));
        assert.equal(new Set(versions).size, versions.length);
        assert.equal(results.filter((r, i) => i % 2 === 1 && r.status === 'applied').length, 1);
        const col = await sibling.getCollection(user.id, 'notes');
        assert.equal(col?.count, 31);
        assert.equal(col?.digest, collectionDigest(await sut.listItems(user.id, 'notes', { limit: 1000 })));
      });
    }
  });
}
