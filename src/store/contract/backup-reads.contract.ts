// Contract tests of what the backup reads (user sequence numbers, backup batches) and of DAV
// properties, which the backup carries too; run for every adapter.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RecordStore } from '../../core/ports/record-store.js';
import type { User } from '../../core/model.js';
import { COLLECTIONS, del, newUser, note, type RecordStoreFactory } from './record-store.contract.js';

const NOW = '2026-01-01T00:00:00.000Z';

export function describeBackupReads(name: string, factory: RecordStoreFactory): void {
  describe(`RecordStore backup reads and DAV properties contract: ${name}`, () => {
    const opened: RecordStore[] = [];
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });

    async function withUser(): Promise<{ sut: RecordStore; user: User }> {
      const sut = await factory.open();
      opened.push(sut);
      const user = await sut.createUser(newUser(), COLLECTIONS);
      return { sut, user };
    }

    // Backup reads (added with continuous backup, issue 3).
    it('lists every user with the last sequence number', async () => {
      const { sut, user } = await withUser();
      const other = await sut.createUser(newUser(), COLLECTIONS);
      await sut.applyChanges(user.id, [note('a', '1'), note('b', '2')], NOW);
      const seqs = new Map((await sut.listUserSeqs()).map((r) => [r.userId, r.seq]));
      assert.equal(seqs.get(user.id), 2);
      assert.equal(seqs.get(other.id), 0);
    });

    it('reads a backup batch: items, replaced versions and conflicts by sequence number, with the account', async () => {
      const { sut, user } = await withUser();
      assert.equal(await sut.readBackupBatch('no-such-user', 0, 10), null);
      await sut.applyChanges(user.id, [note('a', 'v1'), note('b', 'v1')], NOW); // 1, 2
      await sut.applyChanges(user.id, [note('a', 'v2', 1)], NOW); // 3 (1 kept as a revision)
      await sut.applyChanges(user.id, [note('a', 'late', 1)], NOW); // 4: conflict revision
      await sut.applyChanges(user.id, [del('b', 2)], NOW); // 5: tombstone (2 kept as a revision)
      await sut.createToken({ id: 't1', userId: user.id, device: 'phone', tokenHash: 'h'.repeat(64), createdAt: NOW, lastUsedAt: null });
      await sut.addBlobRef(user.id, 'sha256:' + 'b'.repeat(64));
      await sut.addBlobRef(user.id, 'sha256:' + 'a'.repeat(64));
      const all = await sut.readBackupBatch(user.id, 0, 100);
      assert.ok(all);
      assert.equal(all.seq, 5);
      assert.equal(all.complete, true);
      assert.equal(all.upTo, 5);
      assert.deepEqual(
        all.records.map((r) => [r.version, r.type, r.id, r.deleted, r.type === 'revision' ? r.reason : '']),
        [
          [1, 'revision', 'a', false, 'overwritten'],
          [2, 'revision', 'b', false, 'deleted'],
          [3, 'item', 'a', false, ''],
          [4, 'revision', 'a', false, 'conflict'],
          [5, 'item', 'b', true, ''],
        ],
      );
      assert.equal(all.user.name, user.name);
      assert.deepEqual(all.tokens.map((t) => t.id), ['t1']);
      assert.deepEqual(all.blobRefs, ['sha256:' + 'a'.repeat(64), 'sha256:' + 'b'.repeat(64)]);
      assert.deepEqual(all.collections.map((c) => c.id), COLLECTIONS.map((c) => c.id));
      assert.equal(all.collections.find((c) => c.id === 'notes')?.digest, (await sut.getCollection(user.id, 'notes'))?.digest);

      const part = await sut.readBackupBatch(user.id, 1, 2);
      assert.ok(part);
      assert.equal(part.complete, false);
      assert.deepEqual(part.records.map((r) => r.version), [2, 3]);
      assert.equal(part.upTo, 3);
      const rest = await sut.readBackupBatch(user.id, part.upTo, 2);
      assert.deepEqual(rest?.records.map((r) => r.version), [4, 5]);
      const none = await sut.readBackupBatch(user.id, 5, 2);
      assert.deepEqual(none?.records, []);
      assert.equal(none?.complete, true);
    });

    // DAV properties (issue 6): colour, descriptions and dead properties of collections and items.
    it('keeps DAV properties per resource, patches them atomically and durably, and keeps users apart', async () => {
      const { sut, user } = await withUser();
      const other = await sut.createUser(newUser(), COLLECTIONS);
      assert.deepEqual(await sut.getDavProperties(user.id, 'contacts', ''), {});
      assert.equal((await sut.listDavProperties(user.id, 'contacts')).size, 0);
      const colour = '{http://apple.com/ns/ical/}calendar-color';
      const dead = '{http://example.com/ns}x';
      await sut.setDavProperties(user.id, 'contacts', '', { [colour]: '#ff0000', [dead]: '<a xmlns="urn:x">1</a>' });
      await sut.setDavProperties(user.id, 'contacts', 'ada', { [dead]: 'item prop' });
      await sut.setDavProperties(user.id, 'contacts', '', { [colour]: '#00ff00', [dead]: null });
      assert.deepEqual(await sut.getDavProperties(user.id, 'contacts', ''), { [colour]: '#00ff00' });
      assert.deepEqual(await sut.getDavProperties(user.id, 'contacts', 'ada'), { [dead]: 'item prop' });
      assert.deepEqual(await sut.getDavProperties(other.id, 'contacts', ''), {});
      assert.deepEqual(await sut.getDavProperties(user.id, 'notes', ''), {});
      const all = await sut.listDavProperties(user.id, 'contacts');
      assert.deepEqual([...all.keys()].sort(), ['', 'ada']);
      await sut.setDavProperties(user.id, 'contacts', 'ada', { [dead]: null });
      assert.deepEqual(await sut.getDavProperties(user.id, 'contacts', 'ada'), {});
      assert.deepEqual([...(await sut.listDavProperties(user.id, 'contacts')).keys()], ['']);
      if (factory.reopen) {
        const again = await factory.reopen(sut);
        opened.push(again);
        assert.deepEqual(await again.getDavProperties(user.id, 'contacts', ''), { [colour]: '#00ff00' });
      }
    });
  });
}
