// The bulk restore (worker threads writing many users per transaction into SQLite) against the
// item-by-item restore: the same rows, the same quarantines, and newer writes kept.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { names } from '../../src/backup/repository-format.js';
import { BackupShipper } from '../../src/backup/shipper.js';
import { contentHash } from '../../src/core/hash.js';
import { defaultCollections } from '../../src/core/kinds.js';
import type { PreparedChange, User } from '../../src/core/model.js';
import { DEFAULT_PRIORITY } from '../../src/core/restore/restore-plan.js';
import { bulkRestore, type BulkRestoreOptions } from '../../src/restore/bulk-restore.js';
import { executeRestore, planRestore, type RestoreReport, type RestoreScope } from '../../src/restore/restore-executor.js';
import { openFsBlobStore } from '../../src/store/blobs-fs/blob-store.js';
import { MemoryBlobStore } from '../../src/store/memory/blob-store.js';
import { MemoryRecordStore } from '../../src/store/memory/record-store.js';
import { openSqliteStore } from '../../src/store/sqlite/record-store.js';
import { cleanTempDirs, fileRepo, tempDir } from '../backup/backup-helpers.js';
import { png, sha256, vcard } from '../helpers/fixtures.js';

const KINDS = [...DEFAULT_PRIORITY];
const AT = '2026-01-01T00:00:00.000Z';
const NOW = '2026-02-01T00:00:00.000Z';
const scope = (over: Partial<RestoreScope> = {}): RestoreScope => ({ userIds: [], categories: KINDS, priority: KINDS, ...over });
const note = (body: string) => JSON.stringify({ body, title: 't' });

function change(collection: string, id: string, content: string | null, baseVersion = 0): PreparedChange {
  return { changeId: randomUUID(), collection, id, baseVersion, deleted: content === null, content, hash: content === null ? '' : contentHash(content) };
}

/** Users with contacts, notes (one overwritten: a revision; one deleted: a tombstone), scores and a photo, shipped to a directory backup. */
async function world(users = 12, key: string | null = null) {
  const store = new MemoryRecordStore();
  const blobs = new MemoryBlobStore();
  const dir = join(tempDir(), 'repo');
  const repo = await fileRepo(dir, key);
  const people: User[] = [];
  for (let u = 0; u < users; u++) {
    const user = await store.createUser({ id: randomUUID(), name: `user${u}`, passwordHash: `scrypt$${u}`, admin: u === 0, createdAt: AT, deletedAt: null }, defaultCollections());
    await store.createToken({ id: randomUUID(), userId: user.id, device: 'phone', tokenHash: `hash-${u}`, createdAt: AT, lastUsedAt: null });
    const img = png(`photo-${u}`, 3000 + u);
    await blobs.put(sha256(img), (async function* () { yield img; })(), { maxBytes: 1e9 });
    await store.addBlobRef(user.id, sha256(img));
    const photo = JSON.stringify({ blob: sha256(img), name: 'p.png', size: img.length, type: 'image/png' });
    const changes = [change('photos', 'p1', photo), change('scores', 's1', JSON.stringify({ game: 'g', score: u }))];
    for (let i = 0; i < 5; i++) changes.push(change('contacts', `c${i}`, vcard(`c${i}`, `Friend ${u}-${i}`)), change('notes', `n${i}`, note(`${u}-${i}`)));
    await store.applyChanges(user.id, changes, AT);
    const notes = await store.listItems(user.id, 'notes', { limit: 10 });
    const n0 = notes.find((i) => i.id === 'n0')!;
    const n1 = notes.find((i) => i.id === 'n1')!;
    await store.applyChanges(user.id, [change('notes', 'n0', note(`${u} again`), n0.version), change('notes', 'n1', null, n1.version)], AT);
    await store.setDavProperties(user.id, 'contacts', '', { '{http://apple.com/ns/ical/}calendar-color': `#00${u}` });
    people.push(user);
  }
  await new BackupShipper(store, blobs, [repo]).passOnce(false);
  return { store, dir, repo, people };
}

type World = Awaited<ReturnType<typeof world>>;

/** Every row a restore writes, as the store's file holds them. */
function rowsOf(dir: string) {
  const db = new Database(join(dir, 'keepsake.db'), { readonly: true });
  try {
    const all = (sql: string) => db.prepare(sql).all();
    return {
      users: all('SELECT id, name, password_hash, admin, created_at, deleted_at, seq FROM users ORDER BY id'),
      tokens: all('SELECT id, user_id, device, token_hash, created_at, last_used_at FROM tokens ORDER BY id'),
      collections: all('SELECT user_id, id, kind, name, count, digest, created_at, last_change_at, deleted_at FROM collections ORDER BY user_id, id'),
      items: all('SELECT user_id, collection, id, version, hash, modified, deleted, content FROM items ORDER BY user_id, collection, id'),
      revisions: all('SELECT user_id, collection, id, version, hash, modified, deleted, content, reason, kept_at FROM revisions ORDER BY user_id, collection, id, version'),
      blobRefs: all('SELECT user_id, hash FROM blob_refs ORDER BY user_id, hash'),
      davProperties: all('SELECT user_id, collection, resource, props FROM dav_properties ORDER BY user_id, collection, resource'),
      blobs: readdirSync(join(dir, 'blobs'), { recursive: true }).map(String).filter((f) => /[0-9a-f]{64}$/.test(f)).sort(),
    };
  } finally {
    db.close();
  }
}

async function itemByItem(w: World, s = scope()): Promise<{ dir: string; report: RestoreReport }> {
  const dir = tempDir('keepsake-item-by-item-');
  const store = await openSqliteStore(join(dir, 'keepsake.db'));
  const report = await executeRestore(w.repo, store, await openFsBlobStore(join(dir, 'blobs')), await planRestore(w.repo, s), { now: () => NOW });
  await store.close();
  return { dir, report };
}

async function inBulk(w: World, options: BulkRestoreOptions = {}, s = scope(), dir = tempDir('keepsake-bulk-')): Promise<{ dir: string; report: RestoreReport }> {
  const store = await openSqliteStore(join(dir, 'keepsake.db'));
  const { report } = await bulkRestore(w.repo, store, await openFsBlobStore(join(dir, 'blobs')), s, { now: () => NOW, ...options });
  await store.close();
  return { dir, report };
}

describe('bulk restore', () => {
  after(cleanTempDirs);

  it("lists each user's collections in the order they had, also a user who added one of an earlier kind later; each kind's collections are neighbours in the file", async () => {
    const source = new MemoryRecordStore();
    const people: User[] = [];
    for (let u = 0; u < 4; u++) {
      const user = await source.createUser({ id: randomUUID(), name: `order${u}`, passwordHash: 'x', admin: false, createdAt: AT, deletedAt: null }, defaultCollections());
      people.push(user);
      const changes = [change('contacts', 'c', vcard('c', `Friend ${u}`)), change('notes', 'n', note(`${u}`))];
      if (u === 1) {
        // Created after every default collection, but of the first kind.
        await source.createCollection(user.id, { id: 'work', kind: 'contacts', name: 'Work' }, NOW);
        changes.push(change('work', 'w', vcard('w', 'Colleague')));
      }
      await source.applyChanges(user.id, changes, AT);
    }
    const dir = join(tempDir(), 'repo');
    const repo = await fileRepo(dir);
    await new BackupShipper(source, new MemoryBlobStore(), [repo]).passOnce(false);
    const { dir: out, report } = await inBulk({ store: source, dir, repo, people } as unknown as World);
    assert.deepEqual(report.quarantined, []);
    const restored = await openSqliteStore(join(out, 'keepsake.db'));
    try {
      for (const u of people) {
        const want = (await source.listCollections(u.id)).map((c) => [c.id, c.count, c.digest]);
        assert.deepEqual((await restored.listCollections(u.id)).map((c) => [c.id, c.count, c.digest]), want, `user ${u.name}`);
      }
    } finally {
      await restored.close();
    }
    const db = new Database(join(out, 'keepsake.db'), { readonly: true });
    try {
      // The three users whose collections come in the kinds' order: their contacts side by side.
      const ords = db.prepare("SELECT ord FROM collections WHERE id = 'contacts' ORDER BY ord").pluck().all() as number[];
      assert.equal(ords.length, 4);
      assert.deepEqual(ords.slice(0, 3), [ords[0], ords[0] + 1, ords[0] + 2]);
    } finally {
      db.close();
    }
  });

  it('writes exactly the rows the item-by-item restore writes: items, revisions, tombstones, digests, accounts, DAV properties, photos', async () => {
    const w = await world();
    const one = await itemByItem(w);
    const bulk = await inBulk(w);
    assert.deepEqual(bulk.report.quarantined, []);
    assert.equal(bulk.report.users, w.people.length);
    assert.deepEqual(bulk.report.items, one.report.items);
    const want = rowsOf(one.dir);
    assert.equal(want.items.length, w.people.length * 12, 'live items and tombstones');
    assert.equal(want.revisions.length, w.people.length * 2, 'the overwritten and the deleted note');
    assert.equal(want.blobs.length, w.people.length);
    assert.equal(want.davProperties.length, w.people.length);
    assert.deepEqual(rowsOf(bulk.dir), want);
    for (const u of w.people) {
      const got = (rowsOf(bulk.dir).collections as Array<{ user_id: string; id: string; count: number; digest: string }>).filter((c) => c.user_id === u.id);
      const source = await w.store.listCollections(u.id);
      assert.deepEqual(got.map((c) => [c.id, c.count, c.digest]), source.map((c) => [c.id, c.count, c.digest]).sort(), `user ${u.name} as backed up`);
    }
  });

  it('decodes users again in their kind\'s turn when rows do not fit in memory, with the same result (encrypted backup, two threads)', async () => {
    const w = await world(6, 'bulk-restore-test-key-0123456789');
    const one = await itemByItem(w);
    const bulk = await inBulk(w, { threads: 2, keptBytes: 0 });
    assert.deepEqual(bulk.report.quarantined, []);
    assert.deepEqual(rowsOf(bulk.dir), rowsOf(one.dir));
  });

  it('keeps a write made after a partial restore and restores everything else; running it again changes no item', async () => {
    const w = await world(4);
    const dir = tempDir('keepsake-bulk-resume-');
    const first = await inBulk(w, {}, scope({ categories: ['contacts'] }), dir);
    assert.equal(first.report.items.inserted, 4 * 5);
    const store = await openSqliteStore(join(dir, 'keepsake.db'));
    const ann = w.people[0];
    // A device writes a note the backup also holds (a newer write), before the rest comes back.
    const [r] = await store.applyChanges(ann.id, [change('notes', 'n2', note('written on the phone'))], new Date().toISOString());
    assert.equal(r.status, 'applied');
    await store.close();

    const rest = await inBulk(w, {}, scope(), dir);
    assert.deepEqual(rest.report.quarantined, []);
    assert.equal(rest.report.items.unchanged, 4 * 5, 'contacts already back are left alone');
    assert.equal(rest.report.items.keptNewer, 1, 'the newer write stays');
    const reopened = await openSqliteStore(join(dir, 'keepsake.db'));
    assert.equal((await reopened.getItem(ann.id, 'notes', 'n2'))?.content, note('written on the phone'));
    assert.ok((await reopened.listRevisions(ann.id, 'notes', 'n2')).some((v) => v.content === note('0-2')), 'the backed-up version is kept as a revision');
    for (const u of w.people.slice(1)) {
      const got = (await reopened.listCollections(u.id)).map((c) => [c.id, c.count, c.digest]);
      assert.deepEqual(got, (await w.store.listCollections(u.id)).map((c) => [c.id, c.count, c.digest]), `user ${u.name}`);
    }
    await reopened.close();
    const before = rowsOf(dir);
    const again = await inBulk(w, {}, scope(), dir);
    assert.equal(again.report.items.inserted + again.report.items.replaced, 0);
    // (The item-by-item path keeps the backed-up version of a newer write as a revision on every run.)
    const after = rowsOf(dir);
    assert.deepEqual([after.items, after.collections, after.blobs], [before.items, before.collections, before.blobs], 'a second run changes no item');
  });

  it('quarantines a user whose backup objects are damaged, and the photos whose bytes are; everyone else is restored', async () => {
    const w = await world(5);
    const [ann, bob] = w.people;
    for (const f of readdirSync(join(w.dir, 'users', ann.id), { recursive: true }).map(String)) {
      const path = join(w.dir, 'users', ann.id, f);
      if (!/seg|snap/.test(f) || !/\d$/.test(f)) continue;
      const bytes = readFileSync(path);
      bytes[bytes.length - 5] ^= 0xff;
      writeFileSync(path, bytes);
    }
    const bobPhoto = (await w.store.listItems(bob.id, 'photos', { limit: 1 }))[0];
    const blob = JSON.parse(bobPhoto.content!).blob as string;
    const blobFile = join(w.dir, ...names.blob(blob).split('/'));
    const bytes = readFileSync(blobFile);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(blobFile, bytes);

    const { dir, report } = await inBulk(w, { threads: 2 });
    assert.deepEqual([...new Set(report.quarantined.filter((q) => q.userId === ann.id).map((q) => q.kind))].sort(), [...KINDS].sort(), 'the damaged user is quarantined in every kind');
    assert.deepEqual(report.quarantined.filter((q) => q.userId !== ann.id).map((q) => [q.userId, q.kind]), [[bob.id, 'photos']], 'only the damaged photo besides');
    const rows = rowsOf(dir);
    assert.equal((rows.items as Array<{ user_id: string }>).filter((i) => i.user_id === ann.id).length, 0, 'nothing of the damaged user is served');
    assert.equal((rows.items as Array<{ user_id: string; collection: string }>).filter((i) => i.user_id === bob.id && i.collection === 'photos').length, 0);
    assert.ok(!existsSync(join(dir, 'blobs', blob.slice(7, 9), blob.slice(9, 11), blob.slice(7))), 'damaged bytes never reach the blob store');
    for (const u of w.people.slice(2)) {
      const got = (rows.collections as Array<{ user_id: string; id: string; count: number; digest: string }>).filter((c) => c.user_id === u.id);
      assert.deepEqual(got.map((c) => [c.id, c.count, c.digest]), (await w.store.listCollections(u.id)).map((c) => [c.id, c.count, c.digest]).sort(), `user ${u.name}`);
    }
  });
});
