// Prune and photo blobs: a photo no kept restore point needs goes (mark, grace, sweep); one a kept snapshot or another user needs stays.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { contentHash } from '../../src/core/hash.js';
import type { PreparedChange } from '../../src/core/model.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { prune } from '../../src/backup/prune.js';
import { replayUser } from '../../src/backup/replay.js';
import { names } from '../../src/backup/repository-format.js';
import { takeRestoreLease } from '../../src/backup/restore-lease.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { verifyRepository } from '../../src/backup/verify.js';
import { assertSameAsStore, cleanTempDirs, fileRepo, newUser, NOW } from './backup-helpers.js';

after(cleanTempDirs);
const DAY = 86_400_000;
const WITH_PHOTOS = [
  { id: 'notes', kind: 'notes' as const, name: 'Notes' },
  { id: 'photos', kind: 'photos' as const, name: 'Photos' },
];

function photo(id: string, blob: string, baseVersion: number | null = null): PreparedChange {
  const content = JSON.stringify({ blob, name: `${id}.jpg`, type: 'image/jpeg', size: 100 });
  return { changeId: randomUUID(), collection: 'photos', id, baseVersion, deleted: false, content, hash: contentHash(content) };
}
function deletePhoto(id: string, baseVersion: number): PreparedChange {
  return { changeId: randomUUID(), collection: 'photos', id, baseVersion, deleted: true, content: null, hash: null };
}

describe('backup prune of photo blobs', () => {
  it('removes a deleted photo past the window after mark, grace and sweep; keeps photos a kept snapshot, another user, a lease or a live item needs', async () => {
    const store = new MemoryRecordStore();
    const blobs = new MemoryBlobStore();
    const repo = await fileRepo();
    const blob = async () => {
      const bytes = randomBytes(100);
      const hash = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      await blobs.put(hash, (async function* () {
        yield bytes;
      })(), { maxBytes: 1000 });
      return hash;
    };
    const [gone, shared, live, pinnedPhoto, leasedPhoto] = [await blob(), await blob(), await blob(), await blob(), await blob()];
    const ada = await store.createUser(newUser('ada'), WITH_PHOTOS); // deletes `gone` and `shared`, keeps `live`
    const bob = await store.createUser(newUser('bob'), WITH_PHOTOS); // still has `shared`
    const cy = await store.createUser(newUser('cy'), WITH_PHOTOS); // deletes `pinnedPhoto`; a checkpoint pins the snapshot that had it
    const dee = await store.createUser(newUser('dee'), WITH_PHOTOS); // deletes `leasedPhoto`; a running restore leased the snapshot that had it
    const add = async (userId: string, id: string, hash: string) => {
      await store.addBlobRef(userId, hash);
      const [r] = await store.applyChanges(userId, [photo(id, hash)], NOW);
      return r.status === 'applied' ? r.item!.version : 0;
    };
    const vGone = await add(ada.id, 'p-gone', gone);
    const vShared = await add(ada.id, 'p-shared', shared);
    await add(ada.id, 'p-live', live);
    await add(bob.id, 'p-shared', shared);
    const vPinned = await add(cy.id, 'p-pinned', pinnedPhoto);
    const vLeased = await add(dee.id, 'p-leased', leasedPhoto);

    const t0 = Date.parse('2026-03-01T00:00:00Z');
    let clock = t0;
    const shipper = new BackupShipper(store, blobs, [repo], { snapshotEverySeqs: 1, now: () => clock });
    await shipper.passOnce(false); // day 0: every user's first snapshot, with every photo live
    const day0 = new Map<string, string>();
    for (const u of [cy, dee]) day0.set(u.id, (await repo.userIndex(u.id)).snapshots[0].name);
    await repo.putJson('checkpoints/20260301T000000Z-before-upgrade', 'checkpoint', { label: 'before upgrade', takenAt: new Date(t0).toISOString(), snapshots: { [cy.id]: day0.get(cy.id)! }, verified: true });

    clock = t0 + 1 * DAY; // day 1: the deletes, and snapshots without those photos
    await store.applyChanges(ada.id, [deletePhoto('p-gone', vGone), deletePhoto('p-shared', vShared)], NOW);
    await store.applyChanges(cy.id, [deletePhoto('p-pinned', vPinned)], NOW);
    await store.applyChanges(dee.id, [deletePhoto('p-leased', vLeased)], NOW);
    await shipper.passOnce(false);
    assert.equal((await repo.listNames('blobs/')).length, 5);

    const at = (day: number) => t0 + day * DAY;
    assert.equal((await verifyRepository(repo, { mode: 'full', sample: 0, now: () => at(40) })).ok, true);
    await takeRestoreLease(repo, [day0.get(dee.id)!], 'restore of dee to day 0', 30 * DAY, at(40));
    const policy = { keepWithinMs: 30 * DAY, keepDaily: 0, graceMs: 7 * DAY, dryRun: false };
    const marked = await prune(repo, { ...policy, now: at(40) });
    assert.ok(marked.marked > 0);
    assert.equal(marked.deleted, 0, 'the first run only marks');
    assert.equal((await repo.listNames('blobs/')).length, 5, 'nothing is deleted before the grace period ends');
    await prune(repo, { ...policy, now: at(44) });
    assert.equal((await repo.listNames('blobs/')).length, 5, 'nothing is deleted within the grace period');

    const swept = await prune(repo, { ...policy, now: at(48) });
    assert.ok(swept.deleted > 0);
    const left = new Set((await repo.listNames('blobs/')).map((o) => o.name));
    assert.ok(!left.has(names.blob(gone)), 'the deleted photo no kept point needs is gone');
    assert.ok(left.has(names.blob(shared)), 'a photo another user still has stays');
    assert.ok(left.has(names.blob(live)), 'a live photo stays');
    assert.ok(left.has(names.blob(pinnedPhoto)), 'a photo a checkpointed snapshot has stays');
    assert.ok(left.has(names.blob(leasedPhoto)), 'a photo a running restore leased stays');
    assert.ok((await repo.listNames('pruned/')).length === 1, 'the sweep recorded which photos it removed');

    // Everyone still restores, and verify accepts the photo that went on purpose.
    for (const u of [ada, bob, cy, dee]) await assertSameAsStore(store, u.id, await replayUser(repo, await repo.userIndex(u.id)));
    const v = await verifyRepository(repo, { mode: 'full', sample: 0, now: () => at(48) });
    assert.deepEqual(v.problems, []);
  });

  it('verify still names a photo blob that was lost rather than pruned', async () => {
    const store = new MemoryRecordStore();
    const blobs = new MemoryBlobStore();
    const repo = await fileRepo();
    const bytes = randomBytes(64);
    const hash = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await blobs.put(hash, (async function* () {
      yield bytes;
    })(), { maxBytes: 1000 });
    const eve = await store.createUser(newUser('eve'), WITH_PHOTOS);
    await store.addBlobRef(eve.id, hash);
    await store.applyChanges(eve.id, [photo('p', hash)], NOW);
    await new BackupShipper(store, blobs, [repo]).passOnce(false);
    await repo.target.delete(names.blob(hash));
    const v = await verifyRepository(repo, { mode: 'sample', sample: 1, record: false });
    assert.equal(v.ok, false);
    assert.ok(v.problems.some((p) => p.object === names.blob(hash) && p.users.includes(eve.id)));
  });
});
