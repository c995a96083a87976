// Backup fault tests: a full or failing target, damaged objects, a wrong key.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { BackupObjectInfo, BackupTarget } from '../../src/core/ports/backup-target.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { openRepository } from '../../src/backup/repository.js';
import { replayUser } from '../../src/backup/replay.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { openFileTarget } from '../../src/backup/targets/file/file-target.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { watchStore } from '../../src/backup/watch-store.js';
import { BackupError } from '../../src/backup/backup-error.js';
import { assertSameAsStore, cleanTempDirs, eventually, fileRepo, note, NOW, tempDir, userWithHistory } from './backup-helpers.js';

after(cleanTempDirs);

/** Wraps a target; while `full` is set every write fails like a full disk. */
class FullDiskTarget implements BackupTarget {
  full = false;
  constructor(private readonly inner: BackupTarget) {}
  get description() {
    return this.inner.description;
  }
  async putIfAbsent(name: string, bytes: Uint8Array): Promise<boolean> {
    if (this.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return this.inner.putIfAbsent(name, bytes);
  }
  get(name: string) {
    return this.inner.get(name);
  }
  rangeGet(name: string, offset: number, length: number) {
    return this.inner.rangeGet(name, offset, length);
  }
  list(prefix: string): AsyncIterable<BackupObjectInfo> {
    return this.inner.list(prefix);
  }
  delete(name: string) {
    return this.inner.delete(name);
  }
  localPath() {
    return this.inner.localPath();
  }
  close() {
    return this.inner.close();
  }
}

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(p, readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

describe('backup faults', () => {
  it('a full target: writes keep being served, lag is reported, and it catches up when space returns', async () => {
    const store = new MemoryRecordStore();
    const target = new FullDiskTarget(await openFileTarget(join(tempDir(), 'repo')));
    const repo = await openRepository(target, { key: null });
    const user = await userWithHistory(store);
    let clock = Date.now();
    const sut = new BackupShipper(store, new MemoryBlobStore(), [repo], { pollMs: 10, maxBackoffMs: 20, now: () => clock });
    const watched = watchStore(store, sut, { waitForBackup: false });
    await sut.start();
    try {
      await eventually(() => sut.status()[0].state === 'ok' && sut.status()[0].pendingUsers === 0);
      target.full = true;
      for (let i = 0; i < 20; i++) {
        const [r] = await watched.applyChanges(user.id, [note(`full-${i}`, 'written while the backup disk is full')], NOW);
        assert.equal(r.status, 'applied', 'serving continues');
      }
      clock += 5000;
      await eventually(() => sut.status()[0].state === 'failing', 5000, 'target reported failing');
      const failing = sut.status()[0];
      assert.ok(failing.lagSeconds >= 5, `lag grows (${failing.lagSeconds})`);
      assert.match(failing.lastError ?? '', /ENOSPC/);
      assert.equal(sut.userStatus(user.id).upToDate, false);
      target.full = false;
      await eventually(() => sut.status()[0].state === 'ok' && sut.status()[0].pendingUsers === 0, 5000, 'catch-up');
      assert.equal(sut.status()[0].lagSeconds, 0);
      await assertSameAsStore(store, user.id, await replayUser(repo, await repo.userIndex(user.id)));
      const report = await verifyRepository(repo, { mode: 'full', sample: 0 });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
    } finally {
      await sut.stop();
    }
  });

  it('durability=backup: a write waits for the target and fails clearly (still committed) when no target takes it', async () => {
    const store = new MemoryRecordStore();
    const target = new FullDiskTarget(await openFileTarget(join(tempDir(), 'repo')));
    const repo = await openRepository(target, { key: null });
    const user = await userWithHistory(store);
    const sut = new BackupShipper(store, new MemoryBlobStore(), [repo], { pollMs: 10, maxBackoffMs: 20 });
    const watched = watchStore(store, sut, { waitForBackup: true, timeoutMs: 300 });
    await sut.start();
    try {
      const [ok] = await watched.applyChanges(user.id, [note('acked', 'in the backup before the answer')], NOW);
      assert.ok(ok.status === 'applied');
      const index = await repo.userIndex(user.id);
      assert.ok(index.segments.some((s) => s.toSeq >= ok.item.version), 'in the target when acknowledged');
      target.full = true;
      await assert.rejects(watched.applyChanges(user.id, [note('not-acked', 'x')], NOW), (e: Error & { code?: string }) => e.code === 'unavailable');
      target.full = false;
    } finally {
      await sut.stop();
    }
  });

  async function shippedRepo() {
    const dir = join(tempDir(), 'repo');
    const store = new MemoryRecordStore();
    const repo = await fileRepo(dir);
    const a = await userWithHistory(store, 'alice');
    const b = await userWithHistory(store, 'bob');
    // Bob's notes outgrow what a snapshot keeps inline, so his snapshot has a data object.
    await store.applyChanges(b.id, [note('long', 'x'.repeat(20_000))], NOW);
    const shipper = new BackupShipper(store, new MemoryBlobStore(), [repo]);
    await shipper.passOnce(false);
    await store.applyChanges(a.id, [note('after-snapshot', 'x')], NOW);
    await store.applyChanges(b.id, [note('after-snapshot', 'x')], NOW);
    await shipper.passOnce(false);
    return { dir, repo, a, b };
  }

  it('a flipped byte: verify names the object and the user', async () => {
    const { dir, repo, a } = await shippedRepo();
    const seg = (await repo.userIndex(a.id)).segments.at(-1)!;
    const path = join(dir, ...seg.name.split('/'));
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0x01;
    writeFileSync(path, bytes);
    const report = await verifyRepository(repo, { mode: 'sample', sample: 10 });
    assert.equal(report.ok, false);
    const p = report.problems.find((x) => x.object === seg.name);
    assert.ok(p, JSON.stringify(report.problems));
    assert.match(p.problem, /checksum/);
    assert.deepEqual(p.users, [a.id]);
    assert.deepEqual(report.affectedUsers, [a.id]);
  });

  it('a truncated snapshot data object: verify names it and the user whose snapshot needs it', async () => {
    const { dir, repo, b } = await shippedRepo();
    const snap = (await repo.userIndex(b.id)).snapshots[0];
    const manifest = await repo.getJson<{ collections: Array<{ object: string; collection: { id: string } }> }>(snap.name, 'snapshot');
    const data = manifest.collections.find((c) => c.collection.id === 'notes')!.object;
    truncateSync(join(dir, ...data.split('/')), 30);
    const report = await verifyRepository(repo, { mode: 'sample', sample: 10 });
    assert.equal(report.ok, false);
    const p = report.problems.find((x) => x.object === data);
    assert.ok(p, JSON.stringify(report.problems));
    assert.match(p.problem, /shorter than the header|truncated/);
    assert.deepEqual(p.users, [b.id]);
  });

  it('a deleted segment: verify names it and the user, also when it was the newest one', async () => {
    const { dir, repo, a, b } = await shippedRepo();
    const [firstOfB] = (await repo.userIndex(b.id)).segments;
    const lastOfA = (await repo.userIndex(a.id)).segments.at(-1)!;
    assert.equal((await verifyRepository(repo, { mode: 'sample', sample: 10 })).ok, true);
    unlinkSync(join(dir, ...firstOfB.name.split('/')));
    unlinkSync(join(dir, ...lastOfA.name.split('/')));
    const report = await verifyRepository(repo, { mode: 'full', sample: 0 });
    assert.equal(report.ok, false);
    assert.ok(report.problems.some((p) => p.object === firstOfB.name && p.users.includes(b.id)), JSON.stringify(report.problems));
    assert.ok(report.problems.some((p) => p.users.includes(a.id) && /newest segments deleted/.test(p.problem)), JSON.stringify(report.problems));
    assert.deepEqual(report.affectedUsers, [a.id, b.id].sort());
  });

  it('a wrong key: clear error before anything is read or written', async () => {
    const dir = join(tempDir(), 'repo');
    const store = new MemoryRecordStore();
    const repo = await openRepository(await openFileTarget(dir), { key: 'the-right-key-0123456789' });
    await userWithHistory(store);
    await new BackupShipper(store, new MemoryBlobStore(), [repo]).passOnce(false);
    const before = files(dir);
    await assert.rejects(openRepository(await openFileTarget(dir), { key: 'a-wrong-key-0123456789' }), (e: BackupError) => e.code === 'backup_key_mismatch' && /wrong backup key/.test(e.message));
    await assert.rejects(openRepository(await openFileTarget(dir), { key: null }), (e: BackupError) => e.code === 'backup_key_required');
    assert.deepEqual(files(dir), before, 'nothing written or overwritten');
    // Encrypted objects carry no plaintext.
    for (const [path, b64] of before) if (!path.endsWith('config')) assert.ok(!Buffer.from(b64, 'base64').includes('first 1'), path);
    const again = await openRepository(await openFileTarget(dir), { key: 'the-right-key-0123456789' });
    assert.equal((await verifyRepository(again, { mode: 'full', sample: 0 })).ok, true);
  });
});
