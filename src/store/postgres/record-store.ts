// RecordStore on PostgreSQL (pg Pool): many `keepsake serve` processes may share one database.
import pg from 'pg';
import { KeepsakeError } from '../../core/errors.js';
import { EMPTY_DIGEST } from '../../core/digest.js';
import type { ChangeOutcome, Collection, DeviceToken, NewCollection, PreparedChange, Revision, StoredItem, User } from '../../core/model.js';
import type { AdoptedIdentity, BackupBatch, RecordStore, ServerIdentity, StoreStats, RestoredAccount, RestoredItem, RestoreItemsResult } from '../../core/ports/record-store.js';
import { type DurabilityStats, GroupCommitter, type GroupCommitOptions } from './group-commit.js';
import { toStoreError, violatedConstraint } from './pg-errors.js';
import {
  COLLECTION_COLUMNS,
  type CollectionRow,
  ITEM_COLUMNS,
  type ItemRow,
  type RevisionRow,
  TOKEN_COLUMNS,
  type TokenRow,
  USER_COLUMNS,
  type UserRow,
  toCollection,
  toItem,
  toRevision,
  toToken,
  toUser,
} from './rows.js';
import { REVISION_AT, REVISIONS_OF_ITEM, TRASH_OF_USER } from './revision-sql.js';
import { readBackupBatchRows } from './backup-reads.js';
import { purgeDeletedUser } from './purge-user.js';
import { createUserRows } from './account-writes.js';
import { bumpEpochRow, restoreAccountRows, restoreItemRows } from './restore-writes.js';
import { migrate, quoteSchema, readIdentity } from './schema.js';

/** Options for {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** Schema holding Keepsake's tables (created if missing); default: the connection's current schema. */
  schema?: string;
  /** Pool size; writes use at most `groupCommit.maxInFlight` connections of it. Default 10. */
  maxConnections?: number;
  /** Group-commit tuning. */
  groupCommit?: GroupCommitOptions;
}

/**
 * Opens (and migrates, if needed) a Keepsake store in PostgreSQL. Safe to call from several
 * processes at once: migration and identity creation are serialised by an advisory lock.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresRecordStore> {
  const schema = options.schema ?? null;
  if (schema !== null) quoteSchema(schema); // refuse a bad name before connecting
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle client that loses its connection emits 'error'; the pool drops it, we must not crash.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    // Runs before any query of the first borrower (a client's queries are queued in order).
    // - synchronous_commit=off would acknowledge writes before they are on disk: turn it back on.
    // - A server process that freezes inside a transaction (SIGSTOP, a VM pause) would hold its
    //   users' row locks and stall every other process writing for them; PostgreSQL ends such a
    //   session after 30 s idle in a transaction, its work rolls back, and nothing was acknowledged.
    void client
      .query(
        `SELECT CASE WHEN $1::text IS NOT NULL THEN set_config('search_path', $1, false) END,
                CASE WHEN current_setting('synchronous_commit') = 'off' THEN set_config('synchronous_commit', 'on', false) END,
                set_config('idle_in_transaction_session_timeout', '30s', false)`,
        [schema === null ? null : quoteSchema(schema)],
      )
      .catch(() => {});
  });
  try {
    await migrate(pool, schema);
  } catch (e) {
    await pool.end().catch(() => {});
    throw toStoreError(e);
  }
  return new PostgresRecordStore(pool, url, schema, options.groupCommit);
}

/** The PostgreSQL adapter of the RecordStore port. Create it with {@link openPostgresStore}. */
export class PostgresRecordStore implements RecordStore {
  readonly description: string;
  private readonly committer: GroupCommitter;
  private closing: Promise<void> | null = null;

  /** @internal use {@link openPostgresStore}, which migrates first. */
  constructor(
    private readonly pool: pg.Pool,
    /** The connection URL this store was opened with (for opening a sibling). */
    readonly url: string,
    /** The schema holding the tables, or null for the connection's default. */
    readonly schema: string | null,
    groupCommit?: GroupCommitOptions,
  ) {
    this.description = `postgres:${redact(url)}${schema ? `#${schema}` : ''}`;
    this.committer = new GroupCommitter(pool, groupCommit);
  }

  /** How many commits (WAL flushes) carried how many applyChanges calls. */
  durabilityStats(): DurabilityStats {
    return this.committer.stats();
  }

  private async rows<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (e) {
      throw toStoreError(e);
    }
  }

  private async run(text: string, values: unknown[] = []): Promise<number> {
    try {
      return (await this.pool.query(text, values)).rowCount ?? 0;
    } catch (e) {
      throw toStoreError(e);
    }
  }

  async identity(): Promise<ServerIdentity> {
    try {
      return await readIdentity(this.pool);
    } catch (e) {
      throw toStoreError(e);
    }
  }

  createUser(user: User, collections: NewCollection[]): Promise<User> {
    return createUserRows(this.pool, user, collections);
  }

  async getUser(id: string): Promise<User | null> {
    const [r] = await this.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return r ? toUser(r) : null;
  }

  async findUserByName(name: string): Promise<User | null> {
    const [r] = await this.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE name = $1`, [name]);
    return r ? toUser(r) : null;
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.rows<UserRow>(`SELECT ${USER_COLUMNS} FROM users`);
    // Sorted like the reference store (localeCompare), not by the database's collation.
    return rows.map(toUser).sort((a, b) => a.name.localeCompare(b.name));
  }

  async purgeDeletedUser(id: string, deletedBefore: string): Promise<boolean> {
    try {
      return await purgeDeletedUser(this.pool, id, deletedBefore);
    } catch (e) {
      throw toStoreError(e);
    }
  }

  async updateUser(id: string, patch: Partial<Pick<User, 'passwordHash' | 'admin' | 'deletedAt'>>): Promise<User> {
    const [r] = await this.rows<UserRow>(
      `UPDATE users SET
         password_hash = CASE WHEN $2 THEN $3 ELSE password_hash END,
         admin = CASE WHEN $4 THEN $5::boolean ELSE admin END,
         deleted_at = CASE WHEN $6 THEN $7 ELSE deleted_at END
       WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, patch.passwordHash !== undefined, patch.passwordHash ?? null, patch.admin !== undefined, patch.admin ?? null, patch.deletedAt !== undefined, patch.deletedAt ?? null],
    );
    if (!r) throw new KeepsakeError('user_not_found', `no user with id ${id}`);
    return toUser(r);
  }

  async createToken(token: DeviceToken): Promise<void> {
    await this.run(
      `INSERT INTO tokens (id, user_id, device, token_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, device = EXCLUDED.device, token_hash = EXCLUDED.token_hash,
         created_at = EXCLUDED.created_at, last_used_at = EXCLUDED.last_used_at`,
      [token.id, token.userId, token.device, token.tokenHash, token.createdAt, token.lastUsedAt],
    );
  }

  async findTokenByHash(tokenHash: string): Promise<DeviceToken | null> {
    const [r] = await this.rows<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE token_hash = $1 ORDER BY ord LIMIT 1`, [tokenHash]);
    return r ? toToken(r) : null;
  }

  async listTokens(userId: string): Promise<DeviceToken[]> {
    const rows = await this.rows<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE user_id = $1 ORDER BY ord`, [userId]);
    return rows.map(toToken);
  }

  async deleteToken(userId: string, tokenId: string): Promise<boolean> {
    return (await this.run('DELETE FROM tokens WHERE id = $1 AND user_id = $2', [tokenId, userId])) > 0;
  }

  async touchToken(tokenId: string, at: string): Promise<void> {
    await this.run('UPDATE tokens SET last_used_at = $2 WHERE id = $1', [tokenId, at]);
  }

  async createCollection(userId: string, c: NewCollection, now: string): Promise<Collection> {
    try {
      const { rows } = await this.pool.query<CollectionRow>(
        `INSERT INTO collections (user_id, id, kind, name, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING ${COLLECTION_COLUMNS}`,
        [userId, c.id, c.kind, c.name, EMPTY_DIGEST, now],
      );
      return toCollection(rows[0]);
    } catch (e) {
      if (violatedConstraint(e, '23505') !== null) throw new KeepsakeError('collection_exists', `collection "${c.id}" already exists`);
      if (violatedConstraint(e, '23503') !== null) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
      throw toStoreError(e);
    }
  }

  async getCollection(userId: string, id: string): Promise<Collection | null> {
    const [r] = await this.rows<CollectionRow>(`SELECT ${COLLECTION_COLUMNS} FROM collections WHERE user_id = $1 AND id = $2`, [userId, id]);
    return r ? toCollection(r) : null;
  }

  async listCollections(userId: string, options: { includeDeleted?: boolean } = {}): Promise<Collection[]> {
    const rows = await this.rows<CollectionRow>(
      `SELECT ${COLLECTION_COLUMNS} FROM collections WHERE user_id = $1 AND ($2 OR deleted_at IS NULL) ORDER BY ord`,
      [userId, options.includeDeleted === true],
    );
    return rows.map(toCollection);
  }

  async updateCollection(userId: string, id: string, patch: { name?: string; deletedAt?: string | null }): Promise<Collection> {
    const [r] = await this.rows<CollectionRow>(
      `UPDATE collections SET
         name = CASE WHEN $3 THEN $4 ELSE name END,
         deleted_at = CASE WHEN $5 THEN $6 ELSE deleted_at END
       WHERE user_id = $1 AND id = $2 RETURNING ${COLLECTION_COLUMNS}`,
      [userId, id, patch.name !== undefined, patch.name ?? null, patch.deletedAt !== undefined, patch.deletedAt ?? null],
    );
    if (!r) throw new KeepsakeError('collection_not_found', `no collection "${id}"`);
    return toCollection(r);
  }

  /** Queued for group commit; resolves after the transaction that holds it has committed. */
  applyChanges(userId: string, changes: PreparedChange[], now: string): Promise<ChangeOutcome[]> {
    return this.committer.submit({ userId, changes, now });
  }

  async getItem(userId: string, collection: string, id: string): Promise<StoredItem | null> {
    const [r] = await this.rows<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE user_id = $1 AND collection = $2 AND id = $3`, [userId, collection, id]);
    return r ? toItem(r) : null;
  }

  async listChanges(userId: string, afterSeq: number, limit: number): Promise<StoredItem[]> {
    const rows = await this.rows<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM items WHERE user_id = $1 AND version > $2 ORDER BY version LIMIT $3`,
      [userId, afterSeq, limit],
    );
    return rows.map(toItem);
  }

  async listItems(
    userId: string,
    collection: string,
    options: { afterId?: string; limit: number; includeDeleted?: boolean },
  ): Promise<StoredItem[]> {
    const rows = await this.rows<ItemRow>(
      `SELECT ${ITEM_COLUMNS} FROM items
        WHERE user_id = $1 AND collection = $2 AND ($3::text IS NULL OR id > $3) AND ($4 OR NOT deleted)
        ORDER BY id LIMIT $5`,
      [userId, collection, options.afterId ?? null, options.includeDeleted === true, options.limit],
    );
    return rows.map(toItem);
  }

  async lastSeq(userId: string): Promise<number> {
    const [r] = await this.rows<{ seq: string }>('SELECT seq FROM users WHERE id = $1', [userId]);
    return r ? Number(r.seq) : 0;
  }

  async listRevisions(userId: string, collection: string, id: string): Promise<Revision[]> {
    return (await this.rows<RevisionRow>(REVISIONS_OF_ITEM, [userId, collection, id])).map(toRevision);
  }

  async getRevision(userId: string, collection: string, id: string, version: number): Promise<Revision | null> {
    const [r] = await this.rows<RevisionRow>(REVISION_AT, [userId, collection, id, version]);
    return r ? toRevision(r) : null;
  }

  async listTrash(userId: string, limit: number): Promise<Revision[]> {
    return (await this.rows<RevisionRow>(TRASH_OF_USER, [userId, limit])).map(toRevision);
  }

  async pruneRevisions(before: string): Promise<number> {
    return this.run('DELETE FROM revisions WHERE kept_at < $1', [before]);
  }

  async addBlobRef(userId: string, hash: string): Promise<void> {
    try {
      await this.pool.query('INSERT INTO blob_refs (user_id, hash) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, hash]);
    } catch (e) {
      if (violatedConstraint(e, '23503') !== null) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
      throw toStoreError(e);
    }
  }

  async hasBlobRef(userId: string, hash: string): Promise<boolean> {
    return (await this.rows('SELECT 1 FROM blob_refs WHERE user_id = $1 AND hash = $2', [userId, hash])).length > 0;
  }

  async referencedBlobs(hashes: readonly string[]): Promise<Set<string>> {
    return new Set((await this.rows<{ hash: string }>('SELECT DISTINCT hash FROM blob_refs WHERE hash = ANY($1::text[])', [[...hashes]])).map((r) => r.hash));
  }

  async getDavProperties(userId: string, collection: string, resource: string): Promise<Record<string, string>> {
    const rows = await this.rows<{ props: Record<string, string> }>('SELECT props FROM dav_properties WHERE user_id = $1 AND collection = $2 AND resource = $3', [userId, collection, resource]);
    return rows[0]?.props ?? {};
  }

  async listDavProperties(userId: string, collection: string): Promise<Map<string, Record<string, string>>> {
    const rows = await this.rows<{ resource: string; props: Record<string, string> }>(
      `SELECT resource, props FROM dav_properties WHERE user_id = $1 AND collection = $2 AND props <> '{}'::jsonb`,
      [userId, collection],
    );
    return new Map(rows.map((r) => [r.resource, r.props]));
  }

  async setDavProperties(userId: string, collection: string, resource: string, patch: Record<string, string | null>): Promise<void> {
    // One statement, so the patch is atomic; jsonb_strip_nulls drops the properties set to null (removed).
    await this.run(
      `INSERT INTO dav_properties (user_id, collection, resource, props) VALUES ($1, $2, $3, jsonb_strip_nulls($4::jsonb))
       ON CONFLICT (user_id, collection, resource) DO UPDATE SET props = jsonb_strip_nulls(dav_properties.props || $4::jsonb)`,
      [userId, collection, resource, JSON.stringify(patch)],
    );
  }

  async listUserSeqs(): Promise<Array<{ userId: string; seq: number }>> {
    const rows = await this.rows<{ id: string; seq: string }>('SELECT id, seq FROM users');
    return rows.map((r) => ({ userId: r.id, seq: Number(r.seq) }));
  }

  readBackupBatch(userId: string, afterSeq: number, limit: number): Promise<BackupBatch | null> {
    return readBackupBatchRows(this.pool, userId, afterSeq, limit);
  }

  async restoreAccount(account: RestoredAccount): Promise<void> {
    try {
      await restoreAccountRows(this.pool, account);
    } catch (e) {
      if (violatedConstraint(e, '23505') === 'users_name_key') {
        throw new KeepsakeError('user_exists', `cannot restore user ${account.user.name}: another account holds that name`);
      }
      throw toStoreError(e);
    }
  }

  async restoreItems(userId: string, entries: RestoredItem[], now: string): Promise<RestoreItemsResult> {
    try {
      return await restoreItemRows(this.pool, userId, entries, now);
    } catch (e) {
      throw toStoreError(e);
    }
  }

  async bumpEpoch(adopt?: AdoptedIdentity): Promise<ServerIdentity> {
    try {
      return await bumpEpochRow(this.pool, adopt);
    } catch (e) {
      throw toStoreError(e);
    }
  }

  async stats(): Promise<StoreStats> {
    // Live items are summed from the maintained collection counts instead of counting item rows.
    const [r] = await this.rows<{ users: string; live: string | null; bytes: string | null }>(
      `SELECT (SELECT count(*) FROM users) AS users,
              (SELECT sum(count) FROM collections) AS live,
              (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
                 WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND c.relkind = 'r') AS bytes`,
    );
    return { users: Number(r.users), liveItems: Number(r.live ?? 0), bytes: Number(r.bytes ?? 0) };
  }

  /**
   * PostgreSQL makes a commit visible to other sessions only after its WAL flush
   * (synchronous_commit is on, see above), so whatever a read saw is already durable.
   */
  async settled(): Promise<void> {}

  /** Waits for queued and running writes to commit, then closes every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.committer.drain();
      await this.pool.end();
    })();
    return this.closing;
  }
}

/** The URL without its password, for logs and /metrics. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}
