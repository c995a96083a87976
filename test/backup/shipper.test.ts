// The shipper: every change reaches the target as gap-free segments; replay rebuilds the user exactly.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { replayUser, checkReplayed } from '../../src/backup/replay.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { watchStore } from '../../src/backup/watch-store.js';
import type { RecordStore } from '../../src/core/ports/record-store.js';
import { assertSameAsStore, cleanTempDirs, del, eventually, fileRepo, note, NOW, userWithHistory } from './backup-helpers.js';

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

  it('ships the rows writes just committed without reading them back, and still every row when some are not kept', async () => {
    const store = new MemoryRecordStore();
    const repo = await fileRepo();
    const user = await userWithHistory(store);
    // Counts the log records the shipper reads from the store.
    let readFromStore = 0;
    const counted = new Proxy(store, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop !== 'readBackupBatch') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: Parameters<RecordStore['readBackupBatch']>) => {
          const batch = await target.readBackupBatch(...args);
          readFromStore += batch?.records.length ?? 0;
          return batch;
        };
      },
    });
    const sut = new BackupShipper(counted, new MemoryBlobStore(), [repo], { pollMs: 10, minPassIntervalMs: 0 });
    await sut.start();
    try {
      await eventually(async () => (await repo.userIndex(user.id)).segments.length > 0, 5000, 'first segment');
      readFromStore = 0;
      const watched = watchStore(store, sut, { waitForBackup: false });
      let written = 0;
      for (let round = 0; round < 5; round++) {
        // No timer runs between these awaits, so the shipper sees each round whole: kept rows on
        // both sides of the gaps.
        const burst = async (tag: string) => {
          const outcomes = await Promise.all(Array.from({ length: 20 }, (_v, i) => watched.applyChanges(user.id, [note(`r${round}-${tag}${i}`, 'x')], NOW)));
          written += outcomes.length;
          const [first] = outcomes[0];
          return first.status === 'applied' ? first.item.version : 0;
        };
        const v = await burst('a');
        // Replaced and deleted before they shipped: the store keeps those versions as revisions.
        const [edited] = await watched.applyChanges(user.id, [note(`r${round}-a0`, 'edited', v)], NOW);
        // A conflict copy (its row is not in the outcome) and a write by another process: gaps in what is kept.
        await watched.applyChanges(user.id, [note(`r${round}-a1`, 'stale', v - 1)], NOW);
        await store.applyChanges(user.id, [note(`r${round}-other`, 'elsewhere')], NOW);
        await watched.applyChanges(user.id, [del(`r${round}-a0`, edited.status === 'applied' ? edited.item.version : 0)], NOW);
        written += 4;
        await burst('b');
        // Each round ships whole before the next starts, so the rounds do not blend into one run.
        const last = await store.lastSeq(user.id);
        await eventually(async () => (await repo.userIndex(user.id)).segments.at(-1)?.toSeq === last, 5000, 'the round shipped');
      }
      const index = await repo.userIndex(user.id);
      for (let i = 1; i < index.segments.length; i++) assert.equal(index.segments[i].fromSeq, index.segments[i - 1].toSeq, 'ranges contiguous');
      await assertSameAsStore(store, user.id, await replayUser(repo, index));
      const report = await verifyRepository(repo, { mode: 'full', sample: 0 });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      // Per round the first burst and the edit (21 of 44 rows) come before the first gap; everything after a gap is read from the store.
      assert.ok(readFromStore <= written * 0.6, `read ${readFromStore} of ${written} shipped records back from the store`);
      assert.equal(sut.recent.size, 0, 'nothing kept once shipped');
    } finally {
      await sut.stop();
    }
  });
});
