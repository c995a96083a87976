// Contract tests of purging soft-deleted accounts after the retention window, run for every adapter.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { contentHash } from '../../core/hash.js';
import type { RecordStore } from '../../core/ports/record-store.js';
import { COLLECTIONS, newUser, note, type RecordStoreFactory } from './record-store.contract.js';

const DELETED_AT = '2026-01-01T00:00:00.000Z';
const RETENTION_END = '2026-01-31T00:00:00.000Z';

export function describePurge(name: string, factory: RecordStoreFactory): void {
  describe(`RecordStore purge contract: ${name}`, () => {
    const opened: RecordStore[] = [];
    after(async () => {
      for (const s of opened) await s.close().catch(() => {});
    });

    /** A store with one user holding an item, a revision, a token, a blob ref and DAV properties. */
    async function populated(userName = `u-${randomUUID().slice(0, 8)}`) {
      const sut = await factory.open();
      opened.push(sut);
      const user = await sut.createUser(newUser(userName), COLLECTIONS);
      const [a] = await sut.applyChanges(user.id, [note('n1', 'v1')], DELETED_AT);
      assert.ok(a.status === 'applied');
      await sut.applyChanges(user.id, [note('n1', 'v2', a.item.version)], DELETED_AT);
      await sut.createToken({ id: randomUUID(), userId: user.id, device: 'phone', tokenHash: `h-${randomUUID()}`, createdAt: DELETED_AT, lastUsedAt: null });
      // A blob of this user only (stores shared between test runs hold other users' refs).
      const photo = contentHash(`photo of ${user.id}`);
      await sut.addBlobRef(user.id, photo);
      await sut.setDavProperties(user.id, 'notes', '', { 'DAV:displayname': 'Notes' });
      return { sut, user, photo };
    }

    it('removes an account deleted before the cutoff with everything it owned, and frees its name', async () => {
      const { sut, user, photo } = await populated('leaving');
      const keeper = await sut.createUser(newUser(), COLLECTIONS);
      await sut.applyChanges(keeper.id, [note('k1', 'stays')], DELETED_AT);
      const shared = contentHash(`shared by ${user.id}`);
      for (const u of [user, keeper]) await sut.addBlobRef(u.id, shared);
      await sut.updateUser(user.id, { deletedAt: DELETED_AT });
      const nobodys = contentHash(`nobody's ${user.id}`);
      assert.deepEqual([...(await sut.referencedBlobs([photo, shared, nobodys]))].sort(), [photo, shared].sort(), 'a soft-deleted user still refers to its blobs');
      assert.equal(await sut.purgeDeletedUser(user.id, RETENTION_END), true);
      assert.equal(await sut.getUser(user.id), null);
      assert.equal(await sut.findUserByName('leaving'), null);
      assert.deepEqual(await sut.listTokens(user.id), []);
      assert.deepEqual(await sut.listCollections(user.id, { includeDeleted: true }), []);
      assert.equal(await sut.getItem(user.id, 'notes', 'n1'), null);
      assert.deepEqual(await sut.listRevisions(user.id, 'notes', 'n1'), []);
      assert.equal(await sut.hasBlobRef(user.id, photo), false);
      assert.deepEqual([...(await sut.referencedBlobs([photo, shared, nobodys]))], [shared], 'only the blob another user refers to is still referenced');
      assert.deepEqual(await sut.getDavProperties(user.id, 'notes', ''), {});
      // The other user is untouched, and the name can be taken again.
      assert.equal((await sut.getItem(keeper.id, 'notes', 'k1'))?.deleted, false);
      const again = await sut.createUser(newUser('leaving'), COLLECTIONS);
      assert.equal((await sut.listChanges(again.id, 0, 10)).length, 0);
    });

    it('keeps an account that is live, undeleted, or deleted within the window', async () => {
      const { sut, user } = await populated();
      assert.equal(await sut.purgeDeletedUser(user.id, RETENTION_END), false, 'live account');
      await sut.updateUser(user.id, { deletedAt: RETENTION_END });
      assert.equal(await sut.purgeDeletedUser(user.id, RETENTION_END), false, 'deleted within the window');
      await sut.updateUser(user.id, { deletedAt: null });
      assert.equal(await sut.purgeDeletedUser(user.id, '2099-01-01T00:00:00.000Z'), false, 'undeleted');
      assert.equal((await sut.getItem(user.id, 'notes', 'n1'))?.deleted, false);
      assert.equal((await sut.listTokens(user.id)).length, 1);
      assert.equal(await sut.purgeDeletedUser(randomUUID(), RETENTION_END), false, 'unknown user');
    });
  });
}
