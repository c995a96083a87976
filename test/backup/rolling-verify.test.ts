// Rolling verification: every object, photo bytes included, is re-read once per period; damage is named and blocks prune.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { BackupError } from '../../src/backup/backup-error.js';
import { prune } from '../../src/backup/prune.js';
import { names } from '../../src/backup/repository-format.js';
import { RollingVerifier } from '../../src/backup/rolling-verify.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { cleanTempDirs, fileRepo, tempDir, userWithHistory } from './backup-helpers.js';

after(cleanTempDirs);
const silent = { info() {}, warn() {}, error() {} };

describe('rolling backup verification', () => {
  it('covers every object once per period, a slice per tick, then starts over', async () => {
    const repo = await fileRepo();
    const store = new MemoryRecordStore();
    for (let i = 0; i < 30; i++) await userWithHistory(store);
    await new BackupShipper(store, new MemoryBlobStore(), [repo]).passOnce(false);
    const total = (await repo.listNames('')).length - 1; // all but config
    const sut = new RollingVerifier(repo, { periodMs: 4000, tickMs: 1000, log: silent, now: () => Date.now() });
    for (let t = 0; t < 4; t++) {
      await sut.tick();
      assert.ok(sut.status.checked <= total);
    }
    assert.equal(sut.status.checked, total, 'four ticks of a four-tick period cover every object');
    assert.equal(sut.status.total, total);
    assert.equal(sut.status.lastCleanRoundAt, null);
    await sut.tick();
    assert.ok(sut.status.lastCleanRoundAt, 'a clean round is recorded when the next one starts');
    assert.ok(sut.status.checked < total, 'the next round started');
    assert.deepEqual(sut.status.problems, []);
  });

  it('finds a flipped byte in a photo, names it, records a failed verification so prune refuses', async () => {
    const dir = join(tempDir(), 'repo');
    const repo = await fileRepo(dir);
    const store = new MemoryRecordStore();
    const blobs = new MemoryBlobStore();
    const user = await userWithHistory(store);
    const bytes = randomBytes(5000);
    const hash = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await blobs.put(hash, (async function* () {
      yield bytes;
    })(), { maxBytes: 10_000 });
    await store.addBlobRef(user.id, hash);
    await new BackupShipper(store, blobs, [repo]).passOnce(false);
    assert.equal((await verifyRepository(repo, { mode: 'sample', sample: 1 })).ok, true);
    const path = join(dir, ...names.blob(hash).split('/'));
    const damaged = readFileSync(path);
    damaged[2000] ^= 0x40; // bit rot in the photo's bytes
    writeFileSync(path, damaged);

    const errors: string[] = [];
    const sut = new RollingVerifier(repo, { periodMs: 2000, tickMs: 1000, log: { ...silent, error: (_o, m) => errors.push(m) }, now: () => Date.now() });
    await sut.tick();
    await sut.tick();
    assert.equal(sut.status.problems.length, 1);
    assert.equal(sut.status.problems[0].object, names.blob(hash));
    assert.match(sut.status.problems[0].problem, /checksum/);
    assert.match(errors.join('\n'), /BACKUP DAMAGE/);
    const latest = (await repo.listNames('verifications/')).at(-1)!;
    const recorded = await repo.getJson<{ ok: boolean; mode: string }>(latest.name, 'verification');
    assert.deepEqual([recorded.ok, recorded.mode], [false, 'rolling']);
    await assert.rejects(prune(repo, { keepWithinMs: 0, keepDaily: 0, graceMs: 0, dryRun: false }), (e: BackupError) => e.code === 'backup_refused');
  });
});
