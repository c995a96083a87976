// The SQLite schema as an ordered list of migrations, recorded in `schema_version`.
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';

/** One schema step. Versions are applied in order, each in its own transaction, and never edited once released. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * Every migration, oldest first. Notes on the shape:
 * - `users.seq` is the user's last handed-out sequence number; it is read and bumped inside the
 *   write transaction, so it is strictly increasing even with several processes on one file.
 * - `items` keeps one row per (user, collection, id), unique on (`collection_ord`, id) since
 *   version 5 (`collections.ord` names the user's collection); `items_by_seq` makes `listChanges`
 *   an index range scan and, being UNIQUE, also guards against a sequence number used twice.
 * - Ids are compared with SQLite's BINARY collation (UTF-8 byte order = code point order).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'initial schema',
    sql: `
      CREATE TABLE server (
        singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
        id          TEXT NOT NULL,
        epoch       INTEGER NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE TABLE users (
        id             TEXT PRIMARY KEY,
        name           TEXT NOT NULL UNIQUE,
        password_hash  TEXT NOT NULL,
        admin          INTEGER NOT NULL,
        created_at     TEXT NOT NULL,
        deleted_at     TEXT,
        seq            INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE tokens (
        ord           INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        user_id       TEXT NOT NULL,
        device        TEXT NOT NULL,
        token_hash    TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        last_used_at  TEXT
      );
      CREATE INDEX tokens_by_hash ON tokens (token_hash);
      CREATE INDEX tokens_by_user ON tokens (user_id, ord);
      CREATE TABLE collections (
        ord             INTEGER PRIMARY KEY,
        user_id         TEXT NOT NULL,
        id              TEXT NOT NULL,
        kind            TEXT NOT NULL,
        name            TEXT NOT NULL,
        count           INTEGER NOT NULL,
        digest          TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        last_change_at  TEXT,
        deleted_at      TEXT,
        UNIQUE (user_id, id)
      );
      CREATE TABLE items (
        user_id     TEXT NOT NULL,
        collection  TEXT NOT NULL,
        id          TEXT NOT NULL,
        version     INTEGER NOT NULL,
        hash        TEXT NOT NULL,
        modified    TEXT NOT NULL,
        deleted     INTEGER NOT NULL,
        content     TEXT,
        UNIQUE (user_id, collection, id)
      );
      CREATE UNIQUE INDEX items_by_seq ON items (user_id, version);
      CREATE INDEX items_tombstones ON items (user_id, version) WHERE deleted = 1;
      CREATE TABLE revisions (
        user_id     TEXT NOT NULL,
        collection  TEXT NOT NULL,
        id          TEXT NOT NULL,
        version     INTEGER NOT NULL,
        hash        TEXT NOT NULL,
        modified    TEXT NOT NULL,
        deleted     INTEGER NOT NULL,
        content     TEXT,
        reason      TEXT NOT NULL,
        kept_at     TEXT NOT NULL,
        UNIQUE (user_id, collection, id, version)
      );
      CREATE INDEX revisions_by_kept_at ON revisions (kept_at);
      CREATE TABLE change_ids (
        user_id    TEXT NOT NULL,
        change_id  TEXT NOT NULL,
        PRIMARY KEY (user_id, change_id)
      ) WITHOUT ROWID;
      CREATE TABLE blob_refs (
        user_id  TEXT NOT NULL,
        hash     TEXT NOT NULL,
        PRIMARY KEY (user_id, hash)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Added for continuous backup: readBackupBatch ranges over revisions by sequence number.
    version: 2,
    description: 'revisions by sequence number (backup)',
    sql: `CREATE INDEX revisions_by_seq ON revisions (user_id, version);`,
  },
  {
    // Added for CalDAV/CardDAV/WebDAV (issue 6): properties a DAV client sets on a collection
    // (resource '') or item: colour, descriptions, dead properties. One JSON object per resource.
    version: 3,
    description: 'DAV properties',
    sql: `CREATE TABLE dav_properties (
      user_id     TEXT NOT NULL,
      collection  TEXT NOT NULL,
      resource    TEXT NOT NULL,
      props       TEXT NOT NULL,
      PRIMARY KEY (user_id, collection, resource)
    ) WITHOUT ROWID;`,
  },
  {
    // Duplicate detection moves onto the rows (see core/change-plan.ts, revisionChangeId): one
    // random-keyed index less per write, and change ids no longer pile up forever. Rows written
    // before this migration carry no change id; a retry of such a change is planned again.
    version: 4,
    description: 'change ids on item and revision rows',
    sql: `ALTER TABLE items ADD COLUMN change_id TEXT;
      ALTER TABLE revisions ADD COLUMN change_id TEXT;
      DROP TABLE change_ids;`,
  },
  {
    // Batched pushes (issue 2): every new item inserts one entry at a random place in the unique
    // (user, collection, id) index, and each such entry was ~100 bytes (a UUID user id repeated in
    // every entry), so a 500-item batch dirtied about one 4 KiB index page per item for the WAL.
    // Keyed by the collection's integer `ord` (which names user and collection at once), entries
    // are about half as wide: fewer pages per batch, less to write, fsync and checkpoint.
    // `user_id` and `collection` stay on the row for every other query. The table is rebuilt
    // (SQLite cannot drop a table's UNIQUE constraint); an item without a collection row makes
    // `collection_ord` NULL and the migration fail, so nothing is dropped silently.
    version: 5,
    description: 'items keyed by collection ord and id',
    sql: `CREATE TABLE items_v5 (
        user_id         TEXT NOT NULL,
        collection      TEXT NOT NULL,
        id              TEXT NOT NULL,
        version         INTEGER NOT NULL,
        hash            TEXT NOT NULL,
        modified        TEXT NOT NULL,
        deleted         INTEGER NOT NULL,
        content         TEXT,
        change_id       TEXT,
        collection_ord  INTEGER NOT NULL,
        UNIQUE (collection_ord, id)
      );
      INSERT INTO items_v5 (user_id, collection, id, version, hash, modified, deleted, content, change_id, collection_ord)
        SELECT i.user_id, i.collection, i.id, i.version, i.hash, i.modified, i.deleted, i.content, i.change_id, c.ord
        FROM items i LEFT JOIN collections c ON c.user_id = i.user_id AND c.id = i.collection ORDER BY i.rowid;
      DROP TABLE items;
      ALTER TABLE items_v5 RENAME TO items;
      CREATE UNIQUE INDEX items_by_seq ON items (user_id, version);
      CREATE INDEX items_tombstones ON items (user_id, version) WHERE deleted = 1;`,
  },
  {
    // The blob sweep (photo files no account refers to any more) asks "does anyone still refer to
    // this blob?" by hash. Version 6, not 5: 5 is the items re-keying of the batch-speed work.
    version: 6,
    description: 'blob refs by hash (blob sweep)',
    sql: `CREATE INDEX blob_refs_by_hash ON blob_refs (hash);`,
  },
];

/** Highest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings the database up to `SCHEMA_VERSION` and creates the `server` identity row the first
 * time (random UUID, epoch 1). Refuses a database written by a newer Keepsake rather than
 * guessing at its format. Runs synchronously; the caller makes the result durable.
 */
export function migrate(db: Database.Database, now: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL
  )`);
  // Migrations are recorded one by one, so one numbered below an applied one (written in parallel) still runs.
  const applied = new Set(db.prepare('SELECT version FROM schema_version').pluck().all() as number[]);
  const current = Math.max(0, ...applied);
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this Keepsake understands (${SCHEMA_VERSION}); upgrade Keepsake`);
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    try {
      db.transaction(() => {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, now);
      }).immediate();
    } catch (error) {
      // The migration's transaction rolled back: the file is as this version of Keepsake found it.
      throw new Error(`schema migration ${m.version} (${m.description}) failed and changed nothing: ${(error as Error).message}`, { cause: error });
    }
  }
  db.prepare('INSERT OR IGNORE INTO server (singleton, id, epoch, created_at) VALUES (1, ?, 1, ?)').run(randomUUID(), now);
}
