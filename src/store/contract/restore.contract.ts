// Contract tests of the restore methods (restoreAccount, restoreItems, bumpEpoch), run for every adapter.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { collectionDigest, EMPTY_DIGEST } from '../../core/digest.js';
import { contentHash } from '../../core/hash.js';
import type { Revision, StoredItem } from '../../core/model.js';
import type { RecordStore, RestoredAccount } from '../../core/ports/record-store.js';
import { newUser, note, type RecordStoreFactory } from './record-store.contract.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
const T2 = '2026-01-03T00:00:00.000Z';
const NOW = '2026-02-01T00:00:00.000Z';

function row(id: string, body: string, version: number, modified: string): StoredItem {
  const content = JSON.stringify({ body, title: id });
  return { collection: 'notes', id, version, hash: contentHash(content), modified, deleted: false, content };
}

function account(): RestoredAccount {
  const user = newUser();
  return {
    user,
    tokens: [{ id: randomUUID(), userId: user.id, device: 'phone', tokenHash: `h-${randomUUID()}`, createdAt: T0, lastUsedAt: null }],
    collections: [{ id: 'notes', kind: 'notes', name: 'Notes', createdAt: T0, deletedAt: null }],
    blobRefs: [contentHash('photo')],
    seq: 40,
  };
}

export function describeRestore(name: string, factory: RecordStoreFactory): void {
  describe(`RecordStore restore contract: ${name}`, () => {
    const opened: RecordStore[] = [];
    const open = async () => {
      const s = await factory.open();
      opened.push(s);
      return s;
    };
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });

    it('restores an account with its tokens, collections and blob refs, idempotently', async () => {
      const sut = await open();
      const a = account();
      await sut.restoreAccount(a);
      await sut.restoreAccount(a);
      assert.equal((await sut.getUser(a.user.id))?.passwordHash, a.user.passwordHash);
      assert.equal((await sut.findTokenByHash(a.tokens[0].tokenHash))?.device, 'phone');
      assert.deepEqual((await sut.listCollections(a.user.id)).map((c) => [c.id, c.count, c.digest]), [['notes', 0, EMPTY_DIGEST]]);
      assert.equal(await sut.hasBlobRef(a.user.id, contentHash('photo')), true);
      assert.equal(await sut.lastSeq(a.user.id), 40);
      const [w] = await sut.applyChanges(a.user.id, [note('fresh', 'x')], NOW);
      assert.ok(w.status === 'applied' && w.item.version > 40, 'new writes land above every restored version');
    });

    it('backs up and restores DAV properties; properties the store already has stay', async () => {
      const source = await open();
      const a = account();
      await source.restoreAccount(a);
      await source.setDavProperties(a.user.id, 'notes', '', { '{http://apple.com/ns/ical/}calendar-color': '#ff0000' });
      await source.setDavProperties(a.user.id, 'notes', 'n1', { '{urn:keepsake}resource-name': 'Mine.vcf' });
      await source.setDavProperties(a.user.id, 'notes', 'gone', { '{DAV:}x': '1' });
      await source.setDavProperties(a.user.id, 'notes', 'gone', { '{DAV:}x': null });
      const batch = await source.readBackupBatch(a.user.id, 0, 100);
      assert.deepEqual(batch?.davProperties, [
        { collection: 'notes', resource: '', props: { '{http://apple.com/ns/ical/}calendar-color': '#ff0000' } },
        { collection: 'notes', resource: 'n1', props: { '{urn:keepsake}resource-name': 'Mine.vcf' } },
      ]);

      const sut = await open();
      await sut.restoreAccount({ ...a, davProperties: [] }); // an account restored first from an older backup
      await sut.setDavProperties(a.user.id, 'notes', 'n1', { '{urn:keepsake}resource-name': 'Newer.vcf' });
      await sut.restoreAccount({ ...a, davProperties: batch!.davProperties });
      await sut.restoreAccount({ ...a, davProperties: batch!.davProperties });
      assert.deepEqual(await sut.getDavProperties(a.user.id, 'notes', ''), { '{http://apple.com/ns/ical/}calendar-color': '#ff0000' });
      assert.deepEqual(await sut.getDavProperties(a.user.id, 'notes', 'n1'), { '{urn:keepsake}resource-name': 'Newer.vcf' }, 'a newer property is kept');
      assert.deepEqual([...(await sut.listDavProperties(a.user.id, 'notes')).keys()].sort(), ['', 'n1']);
    });

    it('inserts items with their revisions and keeps digests true; a second run changes nothing', async () => {
      const sut = await open();
      const a = account();
      await sut.restoreAccount(a);
      const old: Revision = { ...row('n1', 'v1', 3, T0), reason: 'overwritten', keptAt: T1 };
      const entries = [
        { item: row('n1', 'v2', 7, T1), revisions: [old] },
        { item: row('n2', 'other', 9, T1), revisions: [] },
        { item: { ...row('gone', 'x', 12, T2), deleted: true, content: null }, revisions: [{ ...row('gone', 'x', 5, T0), reason: 'deleted' as const, keptAt: T2 }] },
      ];
      const r = await sut.restoreItems(a.user.id, entries, NOW);
      assert.deepEqual(r, { inserted: 3, replaced: 0, keptNewer: 0, unchanged: 0 });
      const n1 = await sut.getItem(a.user.id, 'notes', 'n1');
      assert.equal(n1?.hash, entries[0].item.hash);
      assert.equal(n1?.modified, T1, 'the original commit time is kept');
      assert.deepEqual((await sut.listRevisions(a.user.id, 'notes', 'n1')).map((x) => [x.version, x.reason]), [[3, 'overwritten']]);
      assert.equal((await sut.getItem(a.user.id, 'notes', 'gone'))?.deleted, true);
      const col = await sut.getCollection(a.user.id, 'notes');
      assert.equal(col?.count, 2);
      assert.equal(col?.digest, collectionDigest([entries[0].item, entries[1].item]));
      const again = await sut.restoreItems(a.user.id, entries, NOW);
      assert.deepEqual(again, { inserted: 0, replaced: 0, keptNewer: 0, unchanged: 3 });
      assert.equal((await sut.listRevisions(a.user.id, 'notes', 'n1')).length, 1);
      assert.equal((await sut.getCollection(a.user.id, 'notes'))?.digest, col?.digest);
    });

    it('an item that comes twice in one call ends as if restored one call after the other', async () => {
      const sut = await open();
      const a = account();
      await sut.restoreAccount(a);
      const first = row('n1', 'v1', 3, T0);
      const second = row('n1', 'v2', 7, T1);
      const other = row('n2', 'other', 9, T1);
      const r = await sut.restoreItems(a.user.id, [{ item: first, revisions: [] }, { item: other, revisions: [] }, { item: second, revisions: [] }], NOW);
      assert.deepEqual(r, { inserted: 2, replaced: 1, keptNewer: 0, unchanged: 0 });
      assert.equal((await sut.getItem(a.user.id, 'notes', 'n1'))?.hash, second.hash);
      assert.ok((await sut.listRevisions(a.user.id, 'notes', 'n1')).some((x) => x.hash === first.hash), 'the replaced version is kept');
      const col = await sut.getCollection(a.user.id, 'notes');
      assert.equal(col?.count, 2);
      assert.equal(col?.digest, collectionDigest([second, other]));
    });

    it('never overwrites a newer write; replaces an older one, keeping both', async () => {
      const sut = await open();
      const a = account();
      await sut.restoreAccount(a);
      const [newer] = await sut.applyChanges(a.user.id, [note('n1', 'written during the restore')], '2026-06-01T00:00:00.000Z');
      const [older] = await sut.applyChanges(a.user.id, [note('n2', 'stale')], '2025-06-01T00:00:00.000Z');
      assert.ok(newer.status === 'applied' && older.status === 'applied');
      const backupN1 = row('n1', 'from backup', 7, T1);
      const backupN2 = row('n2', 'from backup', 8, T1);
      const r = await sut.restoreItems(a.user.id, [{ item: backupN1, revisions: [] }, { item: backupN2, revisions: [] }], NOW);
      assert.deepEqual(r, { inserted: 0, replaced: 1, keptNewer: 1, unchanged: 0 });
      assert.equal((await sut.getItem(a.user.id, 'notes', 'n1'))?.hash, newer.item.hash, 'the newer write stays current');
      assert.ok((await sut.listRevisions(a.user.id, 'notes', 'n1')).some((x) => x.hash === backupN1.hash), 'the backed-up version is kept');
      assert.equal((await sut.getItem(a.user.id, 'notes', 'n2'))?.hash, backupN2.hash, 'an older row is replaced');
      assert.ok((await sut.listRevisions(a.user.id, 'notes', 'n2')).some((x) => x.hash === older.item.hash), 'and kept as a revision');
      const col = await sut.getCollection(a.user.id, 'notes');
      assert.equal(col?.digest, collectionDigest(await sut.listItems(a.user.id, 'notes', { limit: 100 })));
      // Restoring again (an interrupted restore resumed, or run twice) changes nothing more.
      const revisions = async () => (await sut.listRevisions(a.user.id, 'notes', 'n1')).map((x) => [x.version, x.hash]);
      const before = await revisions();
      const again = await sut.restoreItems(a.user.id, [{ item: backupN1, revisions: [] }, { item: backupN2, revisions: [] }], NOW);
      assert.deepEqual(again, { inserted: 0, replaced: 0, keptNewer: 1, unchanged: 1 });
      assert.deepEqual(await revisions(), before, 'the backed-up version is not kept a second time');
    });

    it('bumps the epoch and keeps the server id', async () => {
      const sut = await open();
      const before = await sut.identity();
      const after = await sut.bumpEpoch();
      assert.equal(after.epoch, before.epoch + 1);
      assert.equal(after.id, before.id);
      assert.deepEqual(await sut.identity(), after);
    });
  });
}
