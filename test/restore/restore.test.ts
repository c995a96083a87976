// Restore from a real backup repository: per user, per category, point in time, quarantine, idempotence.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HEADER_BYTES } from '../../src/backup/object-codec.js';
import type { BackupRepository } from '../../src/backup/repository.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { collectionDigest } from '../../src/core/digest.js';
import { contentHash } from '../../src/core/hash.js';
import { defaultCollections } from '../../src/core/kinds.js';
import type { PreparedChange, User } from '../../src/core/model.js';
import type { RecordStore } from '../../src/core/ports/record-store.js';
import { DEFAULT_PRIORITY } from '../../src/core/restore/restore-plan.js';
import { RestoreTracker } from '../../src/core/restore/restore-tracker.js';
import { executeRestore, planRestore, type RestoreScope } from '../../src/restore/restore-executor.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { cleanTempDirs, fileRepo, tempDir } from '../backup/backup-helpers.js';
import { png, sha256, vcard } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';

const KINDS_ALL = [...DEFAULT_PRIORITY];
const scope = (over: Partial<RestoreScope> = {}): RestoreScope => ({ userIds: [], categories: KINDS_ALL, priority: KINDS_ALL, ...over });

function change(collection: string, id: string, content: string, baseVersion = 0): PreparedChange {
  return { changeId: randomUUID(), collection, id, baseVersion, deleted: false, content, hash: contentHash(content) };
}
const noteText = (body: string) => JSON.stringify({ body, title: 't' });

async function seed(store: RecordStore, blobs: MemoryBlobStore, name: string, at: string): Promise<User> {
  const user = await store.createUser({ id: randomUUID(), name, passwordHash: `scrypt$${name}`, admin: false, createdAt: at, deletedAt: null }, defaultCollections());
  await store.createToken({ id: randomUUID(), userId: user.id, device: 'phone', tokenHash: `hash-${name}`, createdAt: at, lastUsedAt: null });
  const img = png(name);
  await blobs.put(sha256(img), (async function* () { yield img; })(), { maxBytes: 1e9 });
  await store.addBlobRef(user.id, sha256(img));
  const photo = JSON.stringify({ blob: sha256(img), name: 'p.png', size: img.length, type: 'image/png' });
  const [c] = await store.applyChanges(user.id, [change('contacts', `c-${name}`, vcard(`c-${name}`, `${name} Contact`)), change('notes', 'n1', noteText('v1')), change('photos', 'p1', photo)], at);
  assert.ok(c.status === 'applied');
  await store.applyChanges(user.id, [change('notes', 'n1', noteText('v2'), 2)], at);
  return user;
}

async function snapshotOf(store: RecordStore, user: User) {
  const cols = await store.listCollections(user.id);
  const items: Record<string, Array<[string, string]>> = {};
  for (const c of cols) items[c.id] = (await store.listItems(user.id, c.id, { limit: 1000 })).map((i) => [i.id, i.hash]);
  return { cols: cols.map((c) => [c.id, c.count, c.digest]), items };
}

describe('restore from backup', () => {
  after(cleanTempDirs);

  async function world() {
    const store = new MemoryRecordStore();
    const blobs = new MemoryBlobStore();
    const dir = join(tempDir(), 'repo');
    const repo = await fileRepo(dir);
    const ann = await seed(store, blobs, 'ann', '2026-01-01T00:00:00.000Z');
    const bob = await seed(store, blobs, 'bob', '2026-01-01T00:00:00.000Z');
    const shipper = new BackupShipper(store, blobs, [repo]);
    await shipper.passOnce(false);
    return { store, blobs, repo, dir, ann, bob, shipper };
  }

  it('brings every user back byte for byte: items, digests, revisions, accounts, tokens, photos', async () => {
    const w = await world();
    const target = new MemoryRecordStore();
    const targetBlobs = new MemoryBlobStore();
    const tracker = new RestoreTracker({ now: () => Date.now() });
    const order: string[] = [];
    const report = await executeRestore(w.repo, target, targetBlobs, await planRestore(w.repo, scope()), { tracker, onTask: (t, s) => s === 'restoring' && order.push(t.kind) });
    assert.deepEqual(report.quarantined, []);
    assert.match(report.lease ?? '', /^leases\//, 'the objects it reads are pinned against prune');
    for (const u of [w.ann, w.bob]) {
      assert.deepEqual(await snapshotOf(target, u), await snapshotOf(w.store, u));
      assert.equal((await target.getUser(u.id))?.passwordHash, u.passwordHash);
      assert.equal((await target.findTokenByHash(`hash-${u.name}`))?.userId, u.id, 'device tokens keep working');
      assert.deepEqual((await target.listRevisions(u.id, 'notes', 'n1')).map((r) => r.content), [noteText('v1')]);
      const photo = JSON.parse((await target.getItem(u.id, 'photos', 'p1'))!.content!);
      assert.ok(await targetBlobs.stat(photo.blob), 'photo bytes are back');
    }
    assert.deepEqual(order, KINDS_ALL.flatMap((k) => [k, k]), "everyone's contacts before anyone's photos, in priority order");
    assert.equal(tracker.isAvailable(w.ann.id, 'photos'), true);
    assert.ok(tracker.forUser(w.ann.id).every((c) => c.state === 'verified'));

    const again = await executeRestore(w.repo, target, targetBlobs, await planRestore(w.repo, scope()));
    assert.equal(again.items.inserted + again.items.replaced, 0, 'restoring twice changes nothing the second time');
    assert.deepEqual(await snapshotOf(target, w.ann), await snapshotOf(w.store, w.ann));
  });

  it('restores one user and one category without touching anything else', async () => {
    const w = await world();
    const target = new MemoryRecordStore();
    await executeRestore(w.repo, target, new MemoryBlobStore(), await planRestore(w.repo, scope({ userIds: [w.ann.id], categories: ['contacts'] })));
    assert.equal(await target.getUser(w.bob.id), null, 'the other user is not restored');
    assert.equal((await target.getCollection(w.ann.id, 'contacts'))?.count, 1);
    assert.equal((await target.getCollection(w.ann.id, 'notes'))?.count, 0, 'other categories are not restored');
  });

  it('restores the state at a point in time', async () => {
    const w = await world();
    await new Promise((r) => setTimeout(r, 20));
    const at = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const later = new Date().toISOString();
    await w.store.applyChanges(w.ann.id, [change('notes', 'n1', noteText('v3'), (await w.store.getItem(w.ann.id, 'notes', 'n1'))!.version), change('notes', 'n2', noteText('new'))], later);
    await w.shipper.passOnce(false);
    const target = new MemoryRecordStore();
    await executeRestore(w.repo, target, new MemoryBlobStore(), await planRestore(w.repo, scope({ userIds: [w.ann.id], at })));
    assert.equal((await target.getItem(w.ann.id, 'notes', 'n1'))?.content, noteText('v2'));
    assert.equal(await target.getItem(w.ann.id, 'notes', 'n2'), null);
    const latest = new MemoryRecordStore();
    await executeRestore(w.repo, latest, new MemoryBlobStore(), await planRestore(w.repo, scope({ userIds: [w.ann.id] })));
    assert.equal((await latest.getItem(w.ann.id, 'notes', 'n1'))?.content, noteText('v3'));
  });

  it('keeps writes made while the restore runs', async () => {
    const w = await world();
    const target = new MemoryRecordStore();
    const plan = await planRestore(w.repo, scope({ userIds: [w.ann.id] }));
    await target.restoreAccount({ user: w.ann, tokens: [], collections: defaultCollections().map((c) => ({ ...c, createdAt: w.ann.createdAt, deletedAt: null })), blobRefs: [], seq: 0 });
    const [fresh] = await target.applyChanges(w.ann.id, [change('notes', 'n1', noteText('written during restore'))], new Date().toISOString());
    assert.ok(fresh.status === 'applied');
    await executeRestore(w.repo, target, new MemoryBlobStore(), plan);
    assert.equal((await target.getItem(w.ann.id, 'notes', 'n1'))?.content, noteText('written during restore'));
    assert.ok((await target.listRevisions(w.ann.id, 'notes', 'n1')).some((r) => r.content === noteText('v2')), 'the backed-up version is kept as a revision');
    const col = await target.getCollection(w.ann.id, 'notes');
    assert.equal(col?.digest, collectionDigest(await target.listItems(w.ann.id, 'notes', { limit: 100 })));
  });

  it('quarantines and names a user whose backup objects are damaged; the others restore', async () => {
    const w = await world();
    const userDir = join(w.dir, 'users', w.ann.id);
    const files: string[] = [];
    const walk = (d: string) => readdirSync(d).forEach((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : files.push(join(d, f))));
    walk(userDir);
    assert.ok(files.length > 0, 'the user has backup objects');
    for (const f of files) {
      const bytes = readFileSync(f);
      bytes[bytes.length - 5] ^= 0xff;
      writeFileSync(f, bytes);
    }
    const target = new MemoryRecordStore();
    const tracker = new RestoreTracker({ now: () => Date.now() });
    const report = await executeRestore(w.repo, target, new MemoryBlobStore(), await planRestore(w.repo, scope()), { tracker });
    assert.deepEqual(await snapshotOf(target, w.bob), await snapshotOf(w.store, w.bob), 'the undamaged user is whole');
    assert.ok(report.quarantined.length > 0 && report.quarantined.every((q) => q.userId === w.ann.id), 'the damaged user is named');
    assert.equal((await target.listItems(w.ann.id, 'notes', { limit: 10 })).length, 0, 'the damaged user is never served as if whole');
    assert.match(report.quarantined[0].problems.join(' '), /users\/|object|checksum|corrupt/i, 'the problem names the object');
  });

  it('the CLI plans and runs a restore into an empty data directory', async () => {
    const w = await world();
    const data = tempDir('keepsake-restore-cli-');
    const plan = await runCli(['restore', '--from', w.dir, '--data', data, '--all', '--plan', '--json']);
    assert.equal(plan.code, 0, plan.stderr);
    const planned = JSON.parse(plan.stdout);
    assert.equal(planned.items, 6);
    assert.equal(planned.photoBytes, png('ann').length + png('bob').length + 2 * HEADER_BYTES, 'the plan counts each photo to copy once, at its size in the backup');
    assert.ok(planned.etaSeconds >= 1);
    const run = await runCli(['restore', '--from', w.dir, '--data', data, '--all', '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const r = JSON.parse(run.stdout);
    assert.ok(r.epoch > 1, 'the restore starts a new epoch, above the backed-up server\'s');
    assert.equal(r.items.inserted, 6 + 0);
    const scrub = await runCli(['scrub', '--data', data]);
    assert.equal(scrub.code, 0, scrub.stdout + scrub.stderr);
    const list = await runCli(['user', 'list', '--json', '--data', data]);
    assert.deepEqual(JSON.parse(list.stdout).map((u: any) => u.name), ['ann', 'bob']);
    void (w.repo as BackupRepository);

    // Lost again before it shipped anything in its new epoch, the server is restored from the same
    // backup: it must not come back in the epoch its devices already saw (same id, same epoch, older
    // data), which is what "above the highest epoch the backup recorded" alone gave.
    const again = await runCli(['restore', '--from', w.dir, '--data', tempDir('keepsake-restore-cli-again-'), '--all', '--json']);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    const r2 = JSON.parse(again.stdout);
    assert.equal(r2.server, r.server, 'the same server, adopted from the backup');
    assert.ok(r2.epoch > r.epoch, `a new epoch (${r2.epoch}), not the first restore's (${r.epoch}) again`);
  });
});
