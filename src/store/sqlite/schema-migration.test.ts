// Opening a database written by an older Keepsake: the data comes through every migration intact.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { contentHash } from '../../core/hash.js';
import { note } from '../contract/record-store.contract.js';
import { openSqliteStore } from './record-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T = '2026-01-01T00:00:00.000Z';
const ADA = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const body = (text: string) => JSON.stringify({ body: text, title: 't' });

/** A database file as Keepsake wrote it with migrations `versions`, with two users who both have a note `n1`. */
function oldDatabase(versions: number[], extra?: (db: Database.Database) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-migrate-'));
  dirs.push(dir);
  const file = join(dir, 'keepsake.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)');
  for (const m of MIGRATIONS.filter((m) => versions.includes(m.version))) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_version VALUES (?, ?, ?)').run(m.version, m.description, T);
  }
  db.prepare("INSERT INTO server VALUES (1, 'old-server', 3, ?)").run(T);
  const user = db.prepare("INSERT INTO users (id, name, password_hash, admin, created_at, deleted_at, seq) VALUES (?, ?, 'scrypt$x', 0, ?, NULL, ?)");
  user.run(ADA, 'ada', T, 3);
  user.run(BOB, 'bob', T, 1);
  const col = db.prepare("INSERT INTO collections (user_id, id, kind, name, count, digest, created_at) VALUES (?, ?, ?, ?, ?, 'd', ?)");
  col.run(ADA, 'notes', 'notes', 'Notes', 1, T);
  col.run(ADA, 'contacts', 'contacts', 'Contacts', 0, T);
  col.run(BOB, 'notes', 'notes', 'Notes', 1, T);
  const item = db.prepare('INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content, change_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  item.run(ADA, 'notes', 'n1', 1, contentHash(body('ada')), T, 0, body('ada'), 'a0000000-0000-4000-8000-000000000001');
  item.run(ADA, 'notes', 'n2', 3, 'sha256:' + '0'.repeat(64), T, 1, null, 'a0000000-0000-4000-8000-000000000002');
  item.run(BOB, 'notes', 'n1', 1, contentHash(body('bob')), T, 0, body('bob'), null);
  db.prepare(
    "INSERT INTO revisions (user_id, collection, id, version, hash, modified, deleted, content, reason, kept_at, change_id) VALUES (?, 'notes', 'n2', 2, ?, ?, 0, ?, 'deleted', ?, NULL)",
  ).run(ADA, contentHash(body('gone')), T, body('gone'), T);
  extra?.(db);
  db.close();
  return file;
}

describe('SQLite schema migrations', () => {
  it('a version 4 database opens with every item, revision and sequence number, and takes writes', async () => {
    const file = oldDatabase([1, 2, 3, 4]);
    const store = await openSqliteStore(file);
    try {
      // Same item id in two users' collections of the same name: each user sees their own.
      assert.equal((await store.getItem(ADA, 'notes', 'n1'))?.content, body('ada'));
      assert.equal((await store.getItem(BOB, 'notes', 'n1'))?.content, body('bob'));
      assert.equal(await store.getItem(ADA, 'contacts', 'n1'), null);
      assert.deepEqual((await store.listItems(ADA, 'notes', { limit: 10, includeDeleted: true })).map((i) => [i.id, i.version, i.deleted]), [
        ['n1', 1, false],
        ['n2', 3, true],
      ]);
      assert.deepEqual((await store.listItems(ADA, 'notes', { limit: 10 })).map((i) => i.id), ['n1']);
      assert.deepEqual((await store.listChanges(ADA, 0, 10)).map((i) => i.id), ['n1', 'n2']);
      assert.deepEqual((await store.listTrash(ADA, 10)).map((r) => r.content), [body('gone')]);
      assert.equal((await store.identity()).epoch, 3);

      // A retry of a change written before the migration is still recognised.
      const [retry] = await store.applyChanges(ADA, [note('n1', 'ada', null, 'a0000000-0000-4000-8000-000000000001')], T);
      assert.equal(retry.status, 'duplicate');
      // Updates and new items continue the user's sequence and keep the old version as a revision.
      const [updated, created] = await store.applyChanges(ADA, [note('n1', 'ada 2', 1), note('n3', 'new')], T);
      assert.equal(updated.status, 'applied');
      assert.equal(created.status, 'applied');
      assert.equal(await store.lastSeq(ADA), 5);
      assert.deepEqual((await store.listRevisions(ADA, 'notes', 'n1')).map((r) => r.content), [body('ada')]);
      assert.deepEqual((await store.listChanges(ADA, 3, 10)).map((i) => [i.id, i.version]), [
        ['n1', 4],
        ['n3', 5],
      ]);
      assert.equal((await store.getItem(BOB, 'notes', 'n1'))?.content, body('bob'), "the other user's item is untouched");
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT max(version) FROM schema_version').pluck().get(), SCHEMA_VERSION);
      assert.equal(db.prepare('SELECT count(*) FROM items').pluck().get(), 4);
    } finally {
      db.close();
    }
  });

  it('a database that got migration 6 before 5 (built from main in between) gets 5 as well', async () => {
    const file = oldDatabase([1, 2, 3, 4, 6]);
    const store = await openSqliteStore(file);
    try {
      assert.equal((await store.getItem(BOB, 'notes', 'n1'))?.content, body('bob'));
      const [created] = await store.applyChanges(BOB, [note('n1', 'bob 2', 1)], T);
      assert.equal(created.status, 'applied');
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      assert.deepEqual(db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all(), MIGRATIONS.map((m) => m.version));
    } finally {
      db.close();
    }
  });

  it('an item without a collection row stops the migration, which changes nothing', async () => {
    const file = oldDatabase([1, 2, 3, 4], (db) => {
      db.prepare("INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content) VALUES (?, 'lost', 'x', 4, 'h', ?, 0, 'kept')").run(ADA, T);
    });
    await assert.rejects(openSqliteStore(file), /schema migration 5 .* failed and changed nothing/);
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT max(version) FROM schema_version').pluck().get(), 4);
      assert.equal(db.prepare("SELECT content FROM items WHERE collection = 'lost'").pluck().get(), 'kept');
      assert.equal(db.prepare('SELECT count(*) FROM items').pluck().get(), 4);
    } finally {
      db.close();
    }
  });
});
