// Contract tests of unsettled reads (ReadOptions) and settled(), run for every adapter.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RecordStore } from '../../core/ports/record-store.js';
import { COLLECTIONS, newUser, note, type RecordStoreFactory } from './record-store.contract.js';

const NOW = '2026-01-01T00:00:00.000Z';
const UNSETTLED = { unsettled: true };

export function describeUnsettledReads(name: string, factory: RecordStoreFactory): void {
  describe(`RecordStore unsettled reads contract: ${name}`, () => {
    const opened: RecordStore[] = [];
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });

    it('answers unsettled reads with what is committed, before or after a write in flight, and like settled ones once settled', async () => {
      const sut = await factory.open();
      opened.push(sut);
      const user = await sut.createUser(newUser(), COLLECTIONS);
      await sut.applyChanges(user.id, [note('n1', 'first')], NOW);
      // Not awaited: the reads below run while this write commits (or waits for its fsync).
      const writing = sut.applyChanges(user.id, [note('n1', 'second', 1)], NOW);
      const props = sut.setDavProperties(user.id, 'notes', 'n1', { '{urn:x}p': 'v' });
      await new Promise((r) => setImmediate(r));
      const [item, collection, properties] = await Promise.all([
        sut.getItem(user.id, 'notes', 'n1', UNSETTLED),
        sut.getCollection(user.id, 'notes', UNSETTLED),
        sut.getDavProperties(user.id, 'notes', 'n1', UNSETTLED),
      ]);
      assert.ok(item?.version === 1 || item?.version === 2, `version ${item?.version}`);
      assert.equal(collection?.count, 1);
      assert.ok(Object.keys(properties).length <= 1);
      await Promise.all([writing, props]);
      await sut.settled();
      assert.deepEqual(await sut.getItem(user.id, 'notes', 'n1', UNSETTLED), await sut.getItem(user.id, 'notes', 'n1'));
      assert.equal((await sut.getItem(user.id, 'notes', 'n1', UNSETTLED))?.version, 2);
      assert.deepEqual(await sut.getCollection(user.id, 'notes', UNSETTLED), await sut.getCollection(user.id, 'notes'));
      assert.deepEqual(await sut.getDavProperties(user.id, 'notes', 'n1', UNSETTLED), { '{urn:x}p': 'v' });
      assert.equal(await sut.getItem(user.id, 'notes', 'missing', UNSETTLED), null);
      assert.equal(await sut.getCollection(user.id, 'missing', UNSETTLED), null);
    });
  });
}
