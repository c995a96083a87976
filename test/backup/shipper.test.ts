// The shipper: every change reaches the target as gap-free segments; replay rebuilds the user exactly.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { replayUser, checkReplayed } from '../../src/backup/replay.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { watchStore } from '../../src/backup/watch-store.js';
import { assertSameAsStore, cleanTempDirs, eventually, fileRepo, note, NOW, userWithHistory } from './backup-helpers.js';

after(cleanTempDirs);

describe('BackupShipper', () => {
  it('ships a user with history and replay rebuilds items, revisions, collections and account', async () => {
    const store = new MemoryRecordStore();
    const repo = await fileRepo();
    const user = await userWithHistory(store);
    await store.createToken({ id: 't1', userId: user.id, device: 'phone', tokenHash: 'a'.repeat(64), createdAt: NOW, lastUsedAt: null });
    const sut = new BackupShipper(store, new MemoryBlobStore(), [repo], { pollMs: 20 });
    await sut.start();
    try {
      await eventually(async () => (await repo.userIndex(user.id)).segments.length > 0, 5000, 'first segment');
      const watched = watchStore(store, sut, { waitForBackup: true });
      // More changes after the first segment, acknowledged only once shipped.
      await watched.applyChanges(user.id, [note('n3', 'later', 4)], NOW);
      await watched.applyChanges(user.id, [note('n9', 'new')], NOW);
      await watched.updateUser(user.id, { passwordHash: 'scrypt$changed' });
      const index = await repo.userIndex(user.id);
      assert.deepEqual(index.segments.map((s) => s.n), index.segments.map((_s, i) => i + 1), 'segments numbered without gaps');
      for (let i = 1; i < index.segments.length; i++) assert.equal(index.segments[i].fromSeq, index.segments[i - 1].toSeq, 'ranges contiguous');
      // A user this small gets no snapshot of its own: segment 1 holds the whole user already.
      assert.equal(index.snapshots.length, 0);
      assert.equal(index.segments[0].fromSeq, 0);
      const state = await replayUser(repo, index);
      assert.deepEqual(checkReplayed(state), []);
      await assertSameAsStore(store, user.id, state);
      assert.equal(state.account?.user.passwordHash, 'scrypt$changed');
    } finally {
      await sut.stop();
    }
  });

  it('resumes from the target after a restart without gaps or duplicates', async () => {
    const store = new MemoryRecordStore();
    const repo = await fileRepo();
    const user = await userWithHistory(store);
    const first = new BackupShipper(store, new MemoryBlobStore(), [repo], { pollMs: 10 });
    await first.start();
    await eventually(async () => (await repo.userIndex(user.id)).segments.length > 0);
    await first.stop();
    await store.applyChanges(user.id, [note('while-down', 'x')], NOW);
    const second = new BackupShipper(store, new MemoryBlobStore(), [repo], { pollMs: 10 });
    await second.start();
    try {
      await eventually(async () => (await repo.userIndex(user.id)).segments.at(-1)?.toSeq === (await store.lastSeq(user.id)));
      const index = await repo.userIndex(user.id);
      assert.deepEqual(index.segments.map((s) => s.n), [1, 2]);
      assert.equal(index.segments[1].fromSeq, index.segments[0].toSeq);
      await assertSameAsStore(store, user.id, await replayUser(repo, index));
    } finally {
      await second.stop();
    }
  });

  it('ships photo blobs once, deduplicated by hash', async () => {
    const store = new MemoryRecordStore();
    const blobs = new MemoryBlobStore();
    const repo = await fileRepo();
    const bytes = Buffer.from('not really a jpeg but bytes');
    const { createHash } = await import('node:crypto');
    const hash = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await blobs.put(hash, (async function* () { yield bytes; })(), { maxBytes: 1000 });
    const a = await userWithHistory(store);
    const b = await userWithHistory(store);
    await store.addBlobRef(a.id, hash);
    await store.addBlobRef(b.id, hash);
    const sut = new BackupShipper(store, blobs, [repo], { pollMs: 10 });
    await sut.start();
    try {
      await eventually(async () => (await repo.userIndex(b.id)).segments.length > 0 && (await repo.userIndex(a.id)).segments.length > 0);
      const objects = await repo.listNames('blobs/');
      assert.equal(objects.length, 1);
      assert.deepEqual(await repo.get(objects[0].name, 'blob'), bytes);
    } finally {
      await sut.stop();
    }
  });

  it('writes a large user snapshot as data objects that replay and full verification read back, encrypted', async () => {
    const store = new MemoryRecordStore();
    const repo = await fileRepo(undefined, 'snapshot test passphrase');
    const user = await userWithHistory(store);
    // Over 16 KB of notes: the notes collection goes to a data object instead of the manifest.
    for (let i = 0; i < 40; i++) await store.applyChanges(user.id, [note(`big${i}`, `${i} `.repeat(300))], NOW);
    const sut = new BackupShipper(store, new MemoryBlobStore(), [repo]);
    await sut.passOnce(false);
    await store.applyChanges(user.id, [note('after', 'the snapshot')], NOW);
    await sut.passOnce(true);
    const index = await repo.userIndex(user.id);
    assert.equal(index.snapshots.length, 2, 'first shipment and forced snapshot');
    assert.ok((await repo.listNames('data/')).length >= 1, 'a data object holds the large collection');
    assert.deepEqual(index.segments.map((s) => s.n), [1, 2]);
    await assertSameAsStore(store, user.id, await replayUser(repo, index));
    const report = await verifyRepository(repo, { mode: 'full', sample: 0 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });
});
