// Verify --full reads users in batches on worker threads: a body that does not decompress is still named with its user only.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BackupShipper } from '../../src/backup/shipper.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { cleanTempDirs, fileRepo, tempDir, userWithHistory } from './backup-helpers.js';

after(cleanTempDirs);

/** Rewrites an object file with `body` as its body, keeping type and flags, with a correct length and format 2 checksum. */
function rewriteBody(path: string, body: Buffer): void {
  const old = readFileSync(path);
  const head = Buffer.from(old.subarray(0, 16));
  head.writeBigUInt64BE(BigInt(body.length), 8);
  const sum = createHash('sha256').update(head).update(createHash('sha256').update(body).digest()).digest();
  chmodSync(path, 0o644);
  writeFileSync(path, Buffer.concat([head, sum, body]));
}

describe('verify --full in batches', () => {
  it('restores every user of an encrypted repository from one batch (decrypted one by one, inflated together)', async () => {
    const store = new MemoryRecordStore();
    const repo = await fileRepo(join(tempDir(), 'repo'), 'a-backup-key-0123456789');
    for (let i = 0; i < 6; i++) await userWithHistory(store, `user${i}`);
    await new BackupShipper(store, new MemoryBlobStore(), [repo]).passOnce(false);
    const report = await verifyRepository(repo, { mode: 'full', sample: 0, record: false });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.usersRestored, 6);
  });

  it('names a segment whose checksum holds but whose gzip body does not inflate, and only its user', async () => {
    const dir = join(tempDir(), 'repo');
    const store = new MemoryRecordStore();
    const repo = await fileRepo(dir);
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await userWithHistory(store, `user${i}`));
    await new BackupShipper(store, new MemoryBlobStore(), [repo]).passOnce(false);
    const clean = await verifyRepository(repo, { mode: 'full', sample: 0, record: false });
    assert.equal(clean.ok, true, JSON.stringify(clean.problems));
    assert.equal(clean.usersRestored, 6);

    const victim = users[3];
    const seg = (await repo.userIndex(victim.id)).segments[0];
    const path = join(dir, ...seg.name.split('/'));
    const body = Buffer.from(readFileSync(path).subarray(48));
    body.fill(0x41, 12, 24); // the deflate data, not the gzip header: it no longer inflates
    rewriteBody(path, body);

    const report = await verifyRepository(repo, { mode: 'full', sample: 0, record: false });
    assert.equal(report.ok, false);
    // Named by the object check itself (a restore that fails on it says so too).
    const p = report.problems.find((x) => x.object === seg.name && x.problem.startsWith(`backup object ${seg.name} does not decompress`));
    assert.ok(p, JSON.stringify(report.problems));
    assert.deepEqual(p.users, [victim.id]);
    assert.deepEqual(report.affectedUsers, [victim.id], 'the other users in the same batch are fine');
  });
});
