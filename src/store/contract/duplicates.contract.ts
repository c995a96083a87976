// Contract tests of duplicate detection (a retried changeId), run for every adapter.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { RecordStore } from '../../core/ports/record-store.js';
import { COLLECTIONS, del, newUser, note, type RecordStoreFactory } from './record-store.contract.js';

const NOW = '2026-01-01T00:00:00.000Z';

export function describeDuplicates(name: string, factory: RecordStoreFactory): void {
  describe(`RecordStore duplicates contract: ${name}`, () => {
    const opened: RecordStore[] = [];
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });
    async function withUser() {
      const sut = await factory.open();
      opened.push(sut);
      return { sut, user: await sut.createUser(newUser(), COLLECTIONS) };
    }

    it('answers a repeated changeId with duplicate and writes nothing', async () => {
      const { sut, user } = await withUser();
      const ch = note('n1', 'once');
      await sut.applyChanges(user.id, [ch], NOW);
      const [again] = await sut.applyChanges(user.id, [{ ...ch }], NOW);
      assert.equal(again.status, 'duplicate');
      assert.equal(await sut.lastSeq(user.id), 1);
      assert.equal((await sut.listRevisions(user.id, 'notes', 'n1')).length, 0);
    });

    it('recognises a retry after other changes, of a conflict, of a delete, and within one batch', async () => {
      const { sut, user } = await withUser();
      const first = note('n1', 'v1');
      const [a] = await sut.applyChanges(user.id, [first], NOW);
      assert.ok(a.status === 'applied');
      const second = note('n1', 'v2', a.item.version);
      const [b] = await sut.applyChanges(user.id, [second], NOW);
      assert.ok(b.status === 'applied');
      // The first change's version is now a revision; its retry is still a duplicate.
      const [retryFirst] = await sut.applyChanges(user.id, [{ ...first }], NOW);
      assert.equal(retryFirst.status, 'duplicate');
      assert.deepEqual(retryFirst.status === 'duplicate' && retryFirst.item, b.item);
      // A conflict's losing version carries the losing change's id.
      const losing = note('n1', 'stale', a.item.version);
      const [c] = await sut.applyChanges(user.id, [losing], NOW);
      assert.equal(c.status, 'conflict');
      const seqAfterConflict = await sut.lastSeq(user.id);
      const [retryLosing] = await sut.applyChanges(user.id, [{ ...losing }], NOW);
      assert.equal(retryLosing.status, 'duplicate');
      const remove = del('n1', b.item.version);
      const twice = randomUUID();
      const [d] = await sut.applyChanges(user.id, [remove], NOW);
      assert.ok(d.status === 'applied' && d.item.deleted);
      const [retryDelete, sameBatch, sameBatchAgain] = await sut.applyChanges(user.id, [{ ...remove }, note('n2', 'x', null, twice), note('n2', 'x', null, twice)], NOW);
      assert.equal(retryDelete.status, 'duplicate');
      assert.equal(sameBatch.status, 'applied');
      assert.equal(sameBatchAgain.status, 'duplicate');
      assert.equal(await sut.lastSeq(user.id), seqAfterConflict + 2, 'retries wrote nothing');
    });

  });
}
