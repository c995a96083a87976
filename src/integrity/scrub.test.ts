// Scrub: a clean store reports nothing; damaged item bytes, bookkeeping and blobs are named exactly.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { StoredItem } from '../core/model.js';
import { blobName, makeWorld, pngBytes, seedAccount } from '../export/export-fixtures.js';
import { openFsBlobStore } from '../store/blobs-fs/blob-store.js';
import type { MemoryBlobStore } from '../store/memory/blob-store.js';
import type { MemoryRecordStore } from '../store/memory/record-store.js';
import { openSqliteStore } from '../store/sqlite/record-store.js';
import { scrub, type ScrubProgress } from './scrub.js';

/** The memory store's rows, reached into the way a failing disk would. */
function rows(store: MemoryRecordStore, userId: string) {
  return (store as unknown as { state: Map<string, { items: Map<string, StoredItem>; collections: Map<string, { count: number; digest: string }> }> }).state.get(userId)!;
}

function blobBytes(blobs: MemoryBlobStore, hash: string): Buffer {
  return (blobs as unknown as { blobs: Map<string, Buffer> }).blobs.get(hash)!;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('scrub', () => {
  it('reports no problems for a clean store and counts what it read', async () => {
    const w = makeWorld();
    await seedAccount(w, 'alice');
    await seedAccount(w, 'bob');
    const seen: ScrubProgress[] = [];
    const report = await scrub(w.store, w.blobs, (p) => seen.push(p));
    assert.deepEqual(report.problems, []);
    assert.equal(report.users, 2);
    assert.equal(report.collections, 14);
    assert.equal(report.items, 2 * 13); // 12 live items and one tombstone each
    assert.equal(report.blobs, 4);
    assert.ok(seen.some((p) => p.user === 'bob' && p.collection === 'photos'));
  });

  it('names the user, collection and item whose stored bytes were damaged', async () => {
    const w = makeWorld();
    await seedAccount(w, 'alice');
    const { user: bob } = await seedAccount(w, 'bob');
    const item = rows(w.store as MemoryRecordStore, bob.id).items.get('calendar\u0000standup-1')!;
    item.content = item.content!.replace('Standup', 'Stendup');

    const { problems } = await scrub(w.store, w.blobs);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].user, 'bob');
    assert.equal(problems[0].collection, 'calendar');
    assert.equal(problems[0].item, 'standup-1');
    assert.match(problems[0].problem, /hashes to sha256:[0-9a-f]{64}, not to its recorded/);
    assert.match(problems[0].hint!, /restore/);
  });

  it('names a collection whose count or digest disagrees with its items', async () => {
    const w = makeWorld();
    const { user } = await seedAccount(w, 'alice');
    const notes = rows(w.store as MemoryRecordStore, user.id).collections.get('notes')!;
    notes.count = 7;
    notes.digest = 'f'.repeat(64);
    const { problems } = await scrub(w.store, w.blobs);
    assert.deepEqual(problems.map((p) => [p.user, p.collection, p.item]), [
      ['alice', 'notes', undefined],
      ['alice', 'notes', undefined],
    ]);
    assert.match(problems[0].problem, /count is 7 but it holds 3 live items/);
    assert.match(problems[1].problem, /digest/);
  });

  it('names a blob whose bytes were altered, and the photo that uses it', async () => {
    const w = makeWorld();
    const { photoBlobs } = await seedAccount(w, 'alice');
    blobBytes(w.blobs as MemoryBlobStore, photoBlobs[1])[42] ^= 0x01;
    const { problems } = await scrub(w.store, w.blobs);
    assert.deepEqual(problems.map((p) => [p.user, p.collection, p.item, p.blob]), [
      ['alice', 'photos', 'p2', photoBlobs[1]],
      ['alice', undefined, undefined, photoBlobs[1]],
    ]);
    assert.match(problems[1].problem, /hash to sha256:/);
  });

  it('names an unreferenced damaged blob and a photo whose blob is missing', async () => {
    const w = makeWorld();
    const { user, photoBlobs } = await seedAccount(w, 'alice');
    const orphan = pngBytes('orphan');
    await w.blobs.put(blobName(orphan), (async function* () { yield orphan; })(), { maxBytes: 1e6 });
    blobBytes(w.blobs as MemoryBlobStore, blobName(orphan))[9] ^= 1;
    (w.blobs as unknown as { blobs: Map<string, Buffer> }).blobs.delete(photoBlobs[0]);
    const { problems } = await scrub(w.store, w.blobs);
    assert.deepEqual(problems.map((p) => [p.user, p.item, p.blob]), [
      [user.name, 'p1', photoBlobs[0]],
      ['', undefined, blobName(orphan)],
    ]);
    assert.match(problems[0].problem, /missing/);
  });

  it('finds bytes damaged inside a real SQLite file and a real blob directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keepsake-scrub-'));
    dirs.push(dir);
    const dbFile = join(dir, 'keepsake.db');
    const blobDir = join(dir, 'blobs');
    let w = makeWorld(await openSqliteStore(dbFile), await openFsBlobStore(blobDir));
    await seedAccount(w, 'alice');
    const { user: bob, photoBlobs } = await seedAccount(w, 'bob');
    assert.deepEqual((await scrub(w.store, w.blobs)).problems, []);
    await w.store.close();

    // What a bad sector or a buggy tool would do: change stored bytes behind the server's back.
    const db = new Database(dbFile);
    const changed = db
      .prepare("UPDATE items SET content = replace(content, 'Ada Lovelace', 'Ada Lovelacf') WHERE user_id = ? AND collection = 'contacts' AND id = ?")
      .run(bob.id, 'A1B2C3D4-0000-4000-8000-000000000001').changes;
    db.close();
    assert.equal(changed, 1);
    const hex = photoBlobs[0].slice('sha256:'.length);
    const blobFile = join(blobDir, hex.slice(0, 2), hex.slice(2, 4), hex);
    chmodSync(blobFile, 0o644);
    const bytes = readFileSync(blobFile);
    bytes[bytes.length - 1] ^= 0x80;
    writeFileSync(blobFile, bytes);

    w = makeWorld(await openSqliteStore(dbFile), await openFsBlobStore(blobDir));
    try {
      const { problems } = await scrub(w.store, w.blobs);
      assert.deepEqual(problems.map((p) => [p.user, p.collection, p.item, p.blob]), [
        ['bob', 'contacts', 'A1B2C3D4-0000-4000-8000-000000000001', undefined],
        ['bob', 'photos', 'p1', photoBlobs[0]],
        ['bob', undefined, undefined, photoBlobs[0]],
      ]);
    } finally {
      await w.store.close();
    }
  });
});
