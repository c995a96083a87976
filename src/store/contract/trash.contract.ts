// Contract tests of the trash listing (one query for every deleted item's kept revision), run for every adapter.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RecordStore } from '../../core/ports/record-store.js';
import { COLLECTIONS, del, newUser, note, type RecordStoreFactory } from './record-store.contract.js';

const NOW = '2026-01-01T00:00:00.000Z';

export function describeTrash(name: string, factory: RecordStoreFactory): void {
  describe(`RecordStore trash contract: ${name}`, () => {
    const opened: RecordStore[] = [];
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });

    it('lists each deleted item once with the content its latest deletion removed, newest deletion first, up to the limit', async () => {
      const sut = await factory.open();
      opened.push(sut);
      const user = await sut.createUser(newUser(), COLLECTIONS);
      const other = await sut.createUser(newUser(), COLLECTIONS);
      await sut.applyChanges(user.id, [note('a', 'a1'), note('b', 'b1'), note('live', 'stays')], NOW);
      await sut.applyChanges(other.id, [note('theirs', 'x')], NOW);
      const v = async (id: string, owner = user.id) => (await sut.getItem(owner, 'notes', id))!.version;
      // a: deleted, brought back with new content, deleted again: only the second deletion is listed.
      const [da] = await sut.applyChanges(user.id, [del('a', await v('a'))], NOW);
      assert.ok(da.status === 'applied');
      const [ua] = await sut.applyChanges(user.id, [note('a', 'a2', da.item.version)], NOW);
      assert.ok(ua.status === 'applied');
      await sut.applyChanges(user.id, [del('b', await v('b'))], NOW);
      await sut.applyChanges(user.id, [del('a', ua.item.version)], NOW);
      await sut.applyChanges(other.id, [del('theirs', await v('theirs', other.id))], NOW);

      const trash = await sut.listTrash(user.id, 10);
      assert.deepEqual(
        trash.map((r) => [r.id, r.reason, r.content]),
        [
          ['a', 'deleted', JSON.stringify({ body: 'a2', title: 'a' })],
          ['b', 'deleted', JSON.stringify({ body: 'b1', title: 'b' })],
        ],
      );
      assert.deepEqual((await sut.listTrash(user.id, 1)).map((r) => r.id), ['a']);
      assert.deepEqual((await sut.listTrash(other.id, 10)).map((r) => r.id), ['theirs'], 'only the user\'s own trash');
      // An undeleted item leaves the trash.
      await sut.applyChanges(user.id, [note('b', 'b again', await v('b'))], NOW);
      assert.deepEqual((await sut.listTrash(user.id, 10)).map((r) => r.id), ['a']);
    });
  });
}
