// PostgreSQL DDL, the schema_version table and the migration run at open (safe when several processes open at once).
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { ServerIdentity } from '../../core/ports/record-store.js';

/**
 * Columns that are compared or sorted (ids, names, ISO-8601 times) use `COLLATE "C"`: byte order,
 * like the reference store's `<` on strings, and independent of the database's locale. (It differs
 * from JavaScript's UTF-16 order only between astral characters and U+E000..U+FFFF.)
 *
 * The hot tables (items, revisions) carry no foreign keys: every write to them happens
 * in `applyChanges` with the user's row locked and the collection checked, and a foreign-key check
 * per row would cost a lookup on the hottest path. `items (user_id, version)` is UNIQUE so that the
 * database itself refuses a sequence number handed out twice.
 */
const MIGRATIONS: { version: number; statements: string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE server_identity (
         singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
         id text NOT NULL,
         epoch bigint NOT NULL,
         created_at text NOT NULL)`,
      `CREATE TABLE users (
         id text COLLATE "C" PRIMARY KEY,
         name text COLLATE "C" NOT NULL UNIQUE,
         password_hash text NOT NULL,
         admin boolean NOT NULL,
         created_at text COLLATE "C" NOT NULL,
         deleted_at text COLLATE "C",
         seq bigint NOT NULL DEFAULT 0)`,
      `CREATE TABLE tokens (
         id text COLLATE "C" PRIMARY KEY,
         user_id text COLLATE "C" NOT NULL,
         device text NOT NULL,
         token_hash text COLLATE "C" NOT NULL,
         created_at text COLLATE "C" NOT NULL,
         last_used_at text COLLATE "C",
         ord bigserial NOT NULL)`,
      `CREATE INDEX tokens_by_hash ON tokens (token_hash)`,
      `CREATE INDEX tokens_by_user ON tokens (user_id, ord)`,
      `CREATE TABLE collections (
         user_id text COLLATE "C" NOT NULL REFERENCES users (id),
         id text COLLATE "C" NOT NULL,
         kind text NOT NULL,
         name text NOT NULL,
         count bigint NOT NULL DEFAULT 0,
         digest text NOT NULL,
         created_at text COLLATE "C" NOT NULL,
         last_change_at text COLLATE "C",
         deleted_at text COLLATE "C",
         ord bigserial NOT NULL,
         PRIMARY KEY (user_id, id))`,
      `CREATE TABLE items (
         user_id text COLLATE "C" NOT NULL,
         collection text COLLATE "C" NOT NULL,
         id text COLLATE "C" NOT NULL,
         version bigint NOT NULL,
         hash text NOT NULL,
         modified text COLLATE "C" NOT NULL,
         deleted boolean NOT NULL,
         content text,
         PRIMARY KEY (user_id, collection, id))`,
      `CREATE UNIQUE INDEX items_by_version ON items (user_id, version)`,
      `CREATE TABLE revisions (
         user_id text COLLATE "C" NOT NULL,
         collection text COLLATE "C" NOT NULL,
         id text COLLATE "C" NOT NULL,
         version bigint NOT NULL,
         hash text NOT NULL,
         modified text COLLATE "C" NOT NULL,
         deleted boolean NOT NULL,
         content text,
         reason text NOT NULL,
         kept_at text COLLATE "C" NOT NULL,
         PRIMARY KEY (user_id, collection, id, version))`,
      `CREATE INDEX revisions_by_kept_at ON revisions (kept_at)`,
      `CREATE TABLE change_ids (
         user_id text COLLATE "C" NOT NULL,
         change_id text COLLATE "C" NOT NULL,
         PRIMARY KEY (user_id, change_id))`,
      `CREATE TABLE blob_refs (
         user_id text COLLATE "C" NOT NULL REFERENCES users (id),
         hash text COLLATE "C" NOT NULL,
         PRIMARY KEY (user_id, hash))`,
    ],
  },
  {
    // Added for continuous backup: readBackupBatch ranges over revisions by sequence number.
    version: 2,
    statements: [`CREATE INDEX revisions_by_seq ON revisions (user_id, version)`],
  },
  {
    // Added for CalDAV/CardDAV/WebDAV (issue 6): properties a DAV client sets on a collection
    // (resource '') or item: colour, descriptions, dead properties. One jsonb object per resource.
    version: 3,
    statements: [
      `CREATE TABLE dav_properties (
         user_id     text NOT NULL,
         collection  text NOT NULL,
         resource    text NOT NULL,
         props       jsonb NOT NULL,
         PRIMARY KEY (user_id, collection, resource))`,
    ],
  },
  {
    // Duplicate detection moves onto the rows (see core/change-plan.ts, revisionChangeId): one
    // index less per write, and change ids no longer pile up forever.
    version: 4,
    statements: [
      `ALTER TABLE items ADD COLUMN change_id text COLLATE "C"`,
      `ALTER TABLE revisions ADD COLUMN change_id text COLLATE "C"`,
      `DROP TABLE change_ids`,
    ],
  },
  {
    // The blob sweep (photo files no account refers to any more) asks "does anyone still refer to
    // this blob?" by hash.
    version: 5,
    statements: [`CREATE INDEX blob_refs_by_hash ON blob_refs (hash)`],
  },
];

/** The schema version this code writes; a database with a newer one is refused. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes a schema name for SQL after checking it is a plain identifier (it comes from configuration). */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name "${schema}": use letters, digits and _ (at most 63)`);
  }
  return `"${schema}"`;
}

/**
 * Brings the schema up to date, once, whichever process gets there first. Everything runs in one
 * transaction under a transaction-scoped advisory lock keyed by the schema name, so a second
 * process opening at the same moment waits and then finds the work done; DDL in PostgreSQL is
 * transactional, so a crash mid-migration leaves the previous version intact.
 * `schema` null means "the connection's current schema" (not created here).
 */
export async function migrate(pool: Pool, schema: string | null): Promise<ServerIdentity> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const identity = await migrateInTransaction(client, schema);
      await client.query('COMMIT');
      return identity;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  } finally {
    client.release();
  }
}

async function migrateInTransaction(client: PoolClient, schema: string | null): Promise<ServerIdentity> {
  const name = schema ?? ((await client.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0].s ?? 'public');
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('keepsake.migrate'), hashtext($1))`, [name]);
  if (schema !== null) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteSchema(schema)}`);
    await client.query(`SET LOCAL search_path TO ${quoteSchema(schema)}`);
  }
  await client.query(`CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at text NOT NULL)`);
  const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_version');
  // Migrations are recorded one by one, so one numbered below an applied one (written in parallel) still runs.
  const applied = new Set(rows.map((r) => Number(r.version)));
  const current = Math.max(0, ...applied);
  if (current > SCHEMA_VERSION) {
    throw new Error(`schema "${name}" is at version ${current}, newer than this Keepsake (${SCHEMA_VERSION}); upgrade Keepsake`);
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    for (const sql of m.statements) await client.query(sql);
    await client.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [m.version, new Date().toISOString()]);
  }
  return ensureIdentity(client);
}

/** Creates the server identity row once (random id, epoch 1); every later opener reads the same row. */
async function ensureIdentity(client: PoolClient): Promise<ServerIdentity> {
  await client.query(
    `INSERT INTO server_identity (singleton, id, epoch, created_at) VALUES (true, $1, 1, $2) ON CONFLICT DO NOTHING`,
    [randomUUID(), new Date().toISOString()],
  );
  return readIdentity(client);
}

/** Reads the identity row (the epoch may have been bumped by a restore in another process). */
export async function readIdentity(db: Pool | PoolClient): Promise<ServerIdentity> {
  const { rows } = await db.query<{ id: string; epoch: string; created_at: string }>(
    'SELECT id, epoch, created_at FROM server_identity WHERE singleton',
  );
  if (rows.length === 0) throw new Error('server identity row is missing');
  return { id: rows[0].id, epoch: Number(rows[0].epoch), createdAt: rows[0].created_at };
}
