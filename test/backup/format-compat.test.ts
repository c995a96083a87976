// Repositories written before object format 2 still verify and restore: format 1 objects are read, and damage in them is named.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackupShipper } from '../../src/backup/shipper.js';
import { replayUser } from '../../src/backup/replay.js';
import { names } from '../../src/backup/repository-format.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { contentHash } from '../../src/core/hash.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { assertSameAsStore, cleanTempDirs, fileRepo, tempDir, userWithHistory } from './backup-helpers.js';

after(cleanTempDirs);

/** Rewrites an object file as format 1 (checksum over the header and the body itself), as older Keepsake wrote it. */
function downgrade(path: string): void {
  const bytes = readFileSync(path);
  bytes[4] = 1;
  createHash('sha256').update(bytes.subarray(0, 16)).update(bytes.subarray(48)).digest().copy(bytes, 16);
  writeFileSync(path, bytes);
}

/** Three small users (no snapshots of their own), the second with a photo, shipped to a new repository. */
async function shipped() {
  const dir = join(tempDir(), 'repo');
  const store = new MemoryRecordStore();
  const blobs = new MemoryBlobStore();
  const repo = await fileRepo(dir);
  const users = [];
  for (let i = 0; i < 3; i++) users.push(await userWithHistory(store, `old${i}`));
  const bytes = randomBytes(5000);
  const hash = contentHash(bytes);
  await blobs.put(hash, (async function* () {
    yield bytes;
  })(), { maxBytes: 1 << 20 });
  await store.addBlobRef(users[1].id, hash);
  await new BackupShipper(store, blobs, [repo]).passOnce(false);
  return { dir, store, repo, users, hash };
}

/** Flips a byte of the photo; verify must name it and the user who has it. */
async function assertDamagedPhotoNamed(dir: string, repo: Awaited<ReturnType<typeof fileRepo>>, hash: string, userId: string): Promise<void> {
  const photo = join(dir, ...names.blob(hash).split('/'));
  const damaged = readFileSync(photo);
  damaged[damaged.length - 10] ^= 0x04;
  writeFileSync(photo, damaged);
  const report = await verifyRepository(repo, { mode: 'full', sample: 0 });
  assert.equal(report.ok, false);
  const p = report.problems.find((x) => x.object === names.blob(hash));
  assert.ok(p, JSON.stringify(report.problems));
  assert.deepEqual(p.users, [userId]);
}

describe('backup object format', () => {
  it('a damaged photo of a user without a snapshot is named with that user (format 2)', async () => {
    const { dir, repo, users, hash } = await shipped();
    assert.equal((await repo.userIndex(users[1].id)).snapshots.length, 0);
    assert.equal((await verifyRepository(repo, { mode: 'full', sample: 0 })).ok, true);
    await assertDamagedPhotoNamed(dir, repo, hash, users[1].id);
  });

  it('a repository of format 1 objects verifies and restores; a flipped byte in a format 1 photo is named with its user', async () => {
    const { dir, store, repo, users, hash } = await shipped();
    const objects = (await repo.listNames('')).filter((o) => o.name !== names.config);
    for (const o of objects) downgrade(join(dir, ...o.name.split('/')));
    assert.equal(readFileSync(join(dir, ...names.blob(hash).split('/')))[4], 1);

    const clean = await verifyRepository(repo, { mode: 'full', sample: 0 });
    assert.deepEqual(clean.problems, []);
    assert.equal(clean.ok, true);
    for (const u of users) await assertSameAsStore(store, u.id, await replayUser(repo, await repo.userIndex(u.id)));

    await assertDamagedPhotoNamed(dir, repo, hash, users[1].id);
  });
});
