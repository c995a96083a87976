// Restore of photos into a filesystem blob store from a directory backup (the path the CLI and
// `serve --restore-from` take, where photo bytes are copied on a worker thread).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { names } from '../../src/backup/repository-format.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { contentHash } from '../../src/core/hash.js';
import { defaultCollections } from '../../src/core/kinds.js';
import type { User } from '../../src/core/model.js';
import { DEFAULT_PRIORITY } from '../../src/core/restore/restore-plan.js';
import { executeRestore, planRestore } from '../../src/restore/restore-executor.js';
import { openFsBlobStore } from '../../src/store/blobs-fs/blob-store.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { cleanTempDirs, fileRepo, tempDir } from '../backup/backup-helpers.js';
import { png, sha256 } from '../helpers/fixtures.js';

const KINDS = [...DEFAULT_PRIORITY];

async function bytesOf(source: AsyncIterable<Uint8Array> | null): Promise<Buffer | null> {
  if (!source) return null;
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('restore of photos into a filesystem blob store', () => {
  after(cleanTempDirs);

  async function world(users: number, photosEach: number) {
    const store = new MemoryRecordStore();
    const blobs = new MemoryBlobStore();
    const dir = join(tempDir(), 'repo');
    const repo = await fileRepo(dir);
    const people: Array<{ user: User; photos: Buffer[] }> = [];
    for (let u = 0; u < users; u++) {
      const user = await store.createUser({ id: randomUUID(), name: `user${u}`, passwordHash: 'x', admin: false, createdAt: '2026-01-01T00:00:00.000Z', deletedAt: null }, defaultCollections());
      const photos: Buffer[] = [];
      const changes = [];
      for (let p = 0; p < photosEach; p++) {
        const img = png(`${u}-${p}`, 20_000 + p);
        await blobs.put(sha256(img), (async function* () { yield img; })(), { maxBytes: 1e9 });
        await store.addBlobRef(user.id, sha256(img));
        const text = JSON.stringify({ blob: sha256(img), name: `p${p}.png`, size: img.length, type: 'image/png' });
        changes.push({ changeId: randomUUID(), collection: 'photos', id: `p${p}`, baseVersion: 0, deleted: false, content: text, hash: contentHash(text) });
        photos.push(img);
      }
      await store.applyChanges(user.id, changes, '2026-01-01T00:00:00.000Z');
      people.push({ user, photos });
    }
    await new BackupShipper(store, blobs, [repo]).passOnce(false);
    return { repo, dir, people };
  }

  it('brings every photo back byte for byte', async () => {
    const w = await world(5, 4);
    const target = new MemoryRecordStore();
    const blobs = await openFsBlobStore(join(tempDir(), 'blobs'));
    const report = await executeRestore(w.repo, target, blobs, await planRestore(w.repo, { userIds: [], categories: KINDS, priority: KINDS }));
    assert.deepEqual(report.quarantined, []);
    assert.equal(report.blobs, 20, 'the report counts every photo copied');
    for (const { user, photos } of w.people) {
      assert.equal((await target.listItems(user.id, 'photos', { limit: 100 })).length, photos.length);
      for (const img of photos) assert.deepEqual(await bytesOf(await blobs.get(sha256(img))), img, 'the photo bytes are back');
    }
  });

  it('a damaged photo in the backup quarantines that user\'s photos only; its bytes never reach the blob store', async () => {
    const w = await world(3, 2);
    const damaged = w.people[1].photos[0];
    const file = join(w.dir, ...names.blob(sha256(damaged)).split('/'));
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(file, bytes);
    const target = new MemoryRecordStore();
    const blobs = await openFsBlobStore(join(tempDir(), 'blobs'));
    const report = await executeRestore(w.repo, target, blobs, await planRestore(w.repo, { userIds: [], categories: KINDS, priority: KINDS }));
    assert.deepEqual(report.quarantined.map((q) => [q.user, q.kind]), [['user1', 'photos']]);
    assert.match(report.quarantined[0].problems.join(' '), /blobs\//, 'the problem names the object');
    assert.equal(await blobs.stat(sha256(damaged)), null, 'nothing damaged becomes visible');
    assert.equal((await target.listItems(w.people[1].user.id, 'photos', { limit: 10 })).length, 0, 'the photos are not served as if whole');
    for (const i of [0, 2]) {
      for (const img of w.people[i].photos) assert.deepEqual(await bytesOf(await blobs.get(sha256(img))), img);
    }
  });
});
