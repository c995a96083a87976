// Prune: two phases with a grace period, keeps what kept points and checkpoints need, refuses after a failed verification.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { BackupError } from '../../src/backup/backup-error.js';
import { prune } from '../../src/backup/prune.js';
import { takeRestoreLease } from '../../src/backup/restore-lease.js';
import { replayUser } from '../../src/backup/replay.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { assertSameAsStore, cleanTempDirs, fileRepo, note, NOW, tempDir, userWithHistory } from './backup-helpers.js';

after(cleanTempDirs);
const DAY = 86_400_000;

describe('backup prune', () => {
  it('marks, waits out the grace period, then deletes only what no kept point or checkpoint needs', async () => {
    const dir = join(tempDir(), 'repo');
    const repo = await fileRepo(dir);
    const store = new MemoryRecordStore();
    const user = await userWithHistory(store);
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    let clock = t0;
    const shipper = new BackupShipper(store, new MemoryBlobStore(), [repo], { snapshotEverySeqs: 3, now: () => clock });
    await shipper.passOnce(false); // day 0: segment 1 + snapshot 1
    for (const [day, i] of [[10, 0], [40, 1]] as const) {
      clock = t0 + day * DAY;
      for (let k = 0; k < 4; k++) await store.applyChanges(user.id, [note(`d${day}-${k}`, `x${i}`)], NOW);
      await shipper.passOnce(false);
    }
    const before = await repo.userIndex(user.id);
    assert.equal(before.snapshots.length, 3);
    // A checkpoint pins the first snapshot.
    await repo.putJson('checkpoints/20260301T000000Z-pinned', 'checkpoint', { label: 'pinned', takenAt: new Date(t0).toISOString(), snapshots: { [user.id]: before.snapshots[0].name }, verified: true });

    await assert.rejects(
      prune(repo, { keepWithinMs: 30 * DAY, keepDaily: 0, graceMs: 7 * DAY, dryRun: false, now: t0 + 41 * DAY }),
      (e: BackupError) => e.code === 'backup_refused' && /never been verified/.test(e.message),
    );
    assert.equal((await verifyRepository(repo, { mode: 'full', sample: 0, now: () => t0 + 41 * DAY })).ok, true);

    // A restore running from day 41 to day 51 reads the oldest segment: prune must leave it.
    const leased = before.segments[0].name;
    await takeRestoreLease(repo, [leased], 'test restore', 10 * DAY, t0 + 41 * DAY);
    const marked = await prune(repo, { keepWithinMs: 30 * DAY, keepDaily: 0, graceMs: 7 * DAY, dryRun: false, now: t0 + 41 * DAY });
    assert.ok(marked.marked > 0);
    assert.equal(marked.deleted, 0, 'the first run only marks');
    const early = await prune(repo, { keepWithinMs: 30 * DAY, keepDaily: 0, graceMs: 7 * DAY, dryRun: false, now: t0 + 45 * DAY });
    assert.equal(early.deleted, 0, 'nothing is deleted within the grace period');
    const swept = await prune(repo, { keepWithinMs: 30 * DAY, keepDaily: 0, graceMs: 7 * DAY, dryRun: false, now: t0 + 49 * DAY });
    assert.ok(swept.deleted > 0);

    const afterIndex = await repo.userIndex(user.id);
    assert.ok(afterIndex.segments.some((s) => s.name === leased), 'a leased object survives the sweep');
    const later = await prune(repo, { keepWithinMs: 30 * DAY, keepDaily: 0, graceMs: 7 * DAY, dryRun: false, now: t0 + 52 * DAY });
    assert.ok(later.marked >= 2, 'once the lease expired, the object and the lease are marked');
    assert.ok(afterIndex.snapshots.some((s) => s.name === before.snapshots[0].name), 'the pinned snapshot stays');
    assert.ok(afterIndex.snapshots.some((s) => s.name === before.snapshots[1].name), 'the base of the 30-day window stays');
    assert.ok(afterIndex.segments.length < before.segments.length, 'segments older than the window went');
    void later;
    await assertSameAsStore(store, user.id, await replayUser(repo, afterIndex));
    const v = await verifyRepository(repo, { mode: 'full', sample: 0, now: () => t0 + 49 * DAY });
    assert.deepEqual(v.problems, []);
  });

  it('refuses while the last verification failed', async () => {
    const dir = join(tempDir(), 'repo');
    const repo = await fileRepo(dir);
    const store = new MemoryRecordStore();
    const user = await userWithHistory(store);
    await new BackupShipper(store, new MemoryBlobStore(), [repo]).passOnce(false);
    const seg = (await repo.userIndex(user.id)).segments[0];
    const path = join(dir, ...seg.name.split('/'));
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(path, bytes);
    assert.equal((await verifyRepository(repo, { mode: 'sample', sample: 1 })).ok, false);
    await assert.rejects(
      prune(repo, { keepWithinMs: 0, keepDaily: 0, graceMs: 0, dryRun: false }),
      (e: BackupError) => e.code === 'backup_refused' && /problem/.test(e.message),
    );
  });
});
