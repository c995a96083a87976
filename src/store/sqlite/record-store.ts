// The SQLite record store (better-sqlite3): the embedded default behind the RecordStore port.
import { closeSync, statSync } from 'node:fs';
import { EMPTY_DIGEST } from '../../core/digest.js';
import { KeepsakeError } from '../../core/errors.js';
import type {
  ChangeOutcome,
  Collection,
  DeviceToken,
  NewCollection,
  PreparedChange,
  Revision,
  StoredItem,
  User,
} from '../../core/model.js';
import type { AdoptedIdentity, BackupBatch, ReadOptions, RecordStore, ServerIdentity, StoreStats, RestoredAccount, RestoredItem, RestoreItemsResult } from '../../core/ports/record-store.js';
import { purgeDeletedUserInTransaction } from './purge-user.js';
import { revisionAt, revisionsOf, trashOf } from './revision-reads.js';
import { readBackupBatchRows } from './backup-reads.js';
import { applyChangesInTransaction } from './apply-changes.js';
import { Checkpointer } from './checkpointer.js';
import { bumpEpochRow, restoreAccountRows, restoreItemRows } from './restore-writes.js';
import { openConnection, type SqliteConnection } from './connection.js';
import { type DurabilityStats, GroupCommit } from './group-commit.js';
import {
  COLLECTION_COLUMNS,
  COLLECTION_ORD,
  type CollectionRow,
  ITEM_COLUMNS,
  type ItemRow,
  TOKEN_COLUMNS,
  type TokenRow,
  toCollection,
  toItem,
  toToken,
  toUser,
  USER_COLUMNS,
  type UserRow,
} from './rows.js';
import { StatementCache } from './statements.js';
import { WalGrowth } from './wal-growth.js';
import { WalSync } from './wal-sync.js';

/**
 * Opens (creating file and parent directory if needed) a SQLite record store. The `server`
 * identity row is created once, with a random id and epoch 1, and is durable before this resolves.
 */
export async function openSqliteStore(file: string): Promise<SqliteRecordStore> {
  return new SqliteRecordStore(await openConnection(file));
}

/**
 * RecordStore on one SQLite file. Writes go through `GroupCommit` (one transaction and one
 * fsync for everything queued in a tick); reads run immediately and are answered once what
 * they saw is durable. Semantics mirror `MemoryRecordStore` exactly, with one deliberate
 * difference: a call that throws has written nothing (the memory store may leave earlier
 * changes of a failed batch applied).
 */
export class SqliteRecordStore implements RecordStore {
  readonly description: string;
  /** Absolute path of the database file. */
  readonly path: string;
  private readonly q: StatementCache;
  private readonly commits: GroupCommit;
  private closing: Promise<void> | null = null;
  private readonly checkpointer: Checkpointer;

  constructor(private readonly conn: SqliteConnection) {
    this.path = conn.path;
    this.description = `sqlite:${conn.path}`;
    this.q = new StatementCache(conn.db);
    this.commits = new GroupCommit(conn.db, new WalSync(conn.walFd), new WalGrowth(conn.walFd));
    this.checkpointer = new Checkpointer(conn.path, this.commits);
  }

  /** How well writes are being grouped: fsyncs versus transactions versus calls. */
  durabilityStats(): DurabilityStats {
    return this.commits.stats();
  }

  /**
   * Lets the WAL sync run on the event loop while `predicate` says nothing else is waiting on this
   * process (see `WalSync.syncInlineWhen`); the server passes "at most one request in flight".
   */
  syncInlineWhen(predicate: (() => boolean) | null): void {
    this.commits.syncInlineWhen(predicate);
  }

  identity(): Promise<ServerIdentity> {
    return this.read(() => {
      const r = this.q.sql('SELECT id, epoch, created_at FROM server WHERE singleton = 1').get() as
        | { id: string; epoch: number; created_at: string }
        | undefined;
      if (!r) throw new KeepsakeError('internal', 'the database has no server identity row');
      return { id: r.id, epoch: r.epoch, createdAt: r.created_at };
    });
  }

  createUser(user: User, collections: NewCollection[]): Promise<User> {
    return this.write(() => {
      const taken = this.q.sql('SELECT 1 FROM users WHERE name = ? OR id = ?').get(user.name, user.id);
      if (taken) throw new KeepsakeError('user_exists', `a user named "${user.name}" already exists`);
      this.q
        .sql(`INSERT INTO users (${USER_COLUMNS}, seq) VALUES (?, ?, ?, ?, ?, ?, 0)`)
        .run(user.id, user.name, user.passwordHash, user.admin ? 1 : 0, user.createdAt, user.deletedAt);
      for (const c of collections) this.insertCollection(user.id, c, user.createdAt);
      return { ...user };
    });
  }

  getUser(id: string): Promise<User | null> {
    return this.read(() => this.userRow(id));
  }

  findUserByName(name: string): Promise<User | null> {
    return this.read(() => {
      const r = this.q.sql(`SELECT ${USER_COLUMNS} FROM users WHERE name = ?`).get(name) as UserRow | undefined;
      return r ? toUser(r) : null;
    });
  }

  listUsers(): Promise<User[]> {
    return this.read(() =>
      (this.q.sql(`SELECT ${USER_COLUMNS} FROM users`).all() as UserRow[]).map(toUser).sort((a, b) => a.name.localeCompare(b.name)),
    );
  }

  updateUser(id: string, patch: Partial<Pick<User, 'passwordHash' | 'admin' | 'deletedAt'>>): Promise<User> {
    return this.write(() => {
      const u = this.userRow(id);
      if (!u) throw new KeepsakeError('user_not_found', `no user with id ${id}`);
      const next: User = { ...u, ...patch };
      this.q
        .sql('UPDATE users SET password_hash = ?, admin = ?, deleted_at = ? WHERE id = ?')
        .run(next.passwordHash, next.admin ? 1 : 0, next.deletedAt, id);
      return next;
    });
  }

  purgeDeletedUser(id: string, deletedBefore: string): Promise<boolean> {
    return this.write(() => purgeDeletedUserInTransaction(this.q, id, deletedBefore));
  }

  createToken(token: DeviceToken): Promise<void> {
    return this.write(() => {
      this.q
        .sql(
          `INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, device = excluded.device,
             token_hash = excluded.token_hash, created_at = excluded.created_at, last_used_at = excluded.last_used_at`,
        )
        .run(token.id, token.userId, token.device, token.tokenHash, token.createdAt, token.lastUsedAt);
    });
  }

  findTokenByHash(tokenHash: string): Promise<DeviceToken | null> {
    return this.read(() => {
      const r = this.q.sql(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE token_hash = ? ORDER BY ord LIMIT 1`).get(tokenHash) as
        | TokenRow
        | undefined;
      return r ? toToken(r) : null;
    });
  }

  listTokens(userId: string): Promise<DeviceToken[]> {
    return this.read(() => (this.q.sql(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE user_id = ? ORDER BY ord`).all(userId) as TokenRow[]).map(toToken));
  }

  deleteToken(userId: string, tokenId: string): Promise<boolean> {
    return this.write(() => this.q.sql('DELETE FROM tokens WHERE id = ? AND user_id = ?').run(tokenId, userId).changes > 0);
  }

  touchToken(tokenId: string, at: string): Promise<void> {
    return this.write(() => {
      this.q.sql('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(at, tokenId);
    });
  }

  createCollection(userId: string, collection: NewCollection, now: string): Promise<Collection> {
    return this.write(() => {
      if (!this.q.sql('SELECT 1 FROM users WHERE id = ?').get(userId)) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
      return this.insertCollection(userId, collection, now);
    });
  }

  getCollection(userId: string, id: string, options?: ReadOptions): Promise<Collection | null> {
    return this.read(() => this.collectionRow(userId, id), options);
  }

  listCollections(userId: string, options: { includeDeleted?: boolean } = {}): Promise<Collection[]> {
    const live = options.includeDeleted ? '' : 'AND deleted_at IS NULL';
    return this.read(() =>
      (this.q.sql(`SELECT ${COLLECTION_COLUMNS} FROM collections WHERE user_id = ? ${live} ORDER BY ord`).all(userId) as CollectionRow[]).map(
        toCollection,
      ),
    );
  }

  updateCollection(userId: string, id: string, patch: { name?: string; deletedAt?: string | null }): Promise<Collection> {
    return this.write(() => {
      const c = this.collectionRow(userId, id);
      if (!c) throw new KeepsakeError('collection_not_found', `no collection "${id}"`);
      if (patch.name !== undefined) c.name = patch.name;
      if (patch.deletedAt !== undefined) c.deletedAt = patch.deletedAt;
      this.q.sql('UPDATE collections SET name = ?, deleted_at = ? WHERE user_id = ? AND id = ?').run(c.name, c.deletedAt, userId, id);
      return c;
    });
  }

  applyChanges(userId: string, changes: PreparedChange[], now: string): Promise<ChangeOutcome[]> {
    return this.write(() => applyChangesInTransaction(this.q, userId, changes, now));
  }

  getItem(userId: string, collection: string, id: string, options?: ReadOptions): Promise<StoredItem | null> {
    return this.read(() => {
      const r = this.q.sql(`SELECT ${ITEM_COLUMNS} FROM items WHERE collection_ord = (${COLLECTION_ORD}) AND id = ?`).get(userId, collection, id) as
        | ItemRow
        | undefined;
      return r ? toItem(r) : null;
    }, options);
  }

  listChanges(userId: string, afterSeq: number, limit: number): Promise<StoredItem[]> {
    // Range scan of items_by_seq (user_id, version).
    return this.read(() =>
      (this.q.sql(`SELECT ${ITEM_COLUMNS} FROM items WHERE user_id = ? AND version > ? ORDER BY version LIMIT ?`).all(userId, afterSeq, limit) as ItemRow[]).map(
        toItem,
      ),
    );
  }

  listItems(
    userId: string,
    collection: string,
    options: { afterId?: string; limit: number; includeDeleted?: boolean },
  ): Promise<StoredItem[]> {
    // Range scan of the (collection_ord, id) unique index. Ids order by code point (BINARY
    // collation on UTF-8), which matches JavaScript's `<` except between astral characters and
    // U+E000–U+FFFF; core restricts ids long before that matters.
    const after = options.afterId === undefined ? '' : 'AND id > ?';
    const live = options.includeDeleted ? '' : 'AND deleted = 0';
    const params: unknown[] = [userId, collection];
    if (options.afterId !== undefined) params.push(options.afterId);
    params.push(options.limit);
    return this.read(() =>
      (this.q.sql(`SELECT ${ITEM_COLUMNS} FROM items WHERE collection_ord = (${COLLECTION_ORD}) ${after} ${live} ORDER BY id LIMIT ?`).all(...params) as ItemRow[]).map(
        toItem,
      ),
    );
  }

  lastSeq(userId: string): Promise<number> {
    return this.read(() => (this.q.sql('SELECT seq FROM users WHERE id = ?').get(userId) as { seq: number } | undefined)?.seq ?? 0);
  }

  listRevisions(userId: string, collection: string, id: string): Promise<Revision[]> {
    return this.read(() => revisionsOf(this.q, userId, collection, id));
  }

  getRevision(userId: string, collection: string, id: string, version: number): Promise<Revision | null> {
    return this.read(() => revisionAt(this.q, userId, collection, id, version));
  }

  listTrash(userId: string, limit: number): Promise<Revision[]> {
    return this.read(() => trashOf(this.q, userId, limit));
  }

  pruneRevisions(before: string): Promise<number> {
    return this.write(() => this.q.sql('DELETE FROM revisions WHERE kept_at < ?').run(before).changes);
  }

  addBlobRef(userId: string, hash: string): Promise<void> {
    return this.write(() => {
      if (!this.q.sql('SELECT 1 FROM users WHERE id = ?').get(userId)) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
      this.q.sql('INSERT OR IGNORE INTO blob_refs (user_id, hash) VALUES (?, ?)').run(userId, hash);
    });
  }

  hasBlobRef(userId: string, hash: string): Promise<boolean> {
    return this.read(() => this.q.sql('SELECT 1 FROM blob_refs WHERE user_id = ? AND hash = ?').get(userId, hash) !== undefined);
  }

  referencedBlobs(hashes: readonly string[]): Promise<Set<string>> {
    return this.read(() => {
      const found = this.q.sql('SELECT DISTINCT hash FROM blob_refs WHERE hash IN (SELECT value FROM json_each(?))').pluck().all(JSON.stringify(hashes));
      return new Set(found as string[]);
    });
  }

  getDavProperties(userId: string, collection: string, resource: string, options?: ReadOptions): Promise<Record<string, string>> {
    return this.read(() => {
      const row = this.q.sql('SELECT props FROM dav_properties WHERE user_id = ? AND collection = ? AND resource = ?').pluck().get(userId, collection, resource);
      return row === undefined ? {} : (JSON.parse(row as string) as Record<string, string>);
    }, options);
  }

  listDavProperties(userId: string, collection: string): Promise<Map<string, Record<string, string>>> {
    return this.read(() => {
      const rows = this.q.sql('SELECT resource, props FROM dav_properties WHERE user_id = ? AND collection = ?').all(userId, collection) as Array<{ resource: string; props: string }>;
      return new Map(rows.map((r) => [r.resource, JSON.parse(r.props) as Record<string, string>]));
    });
  }

  setDavProperties(userId: string, collection: string, resource: string, patch: Record<string, string | null>): Promise<void> {
    return this.write(() => {
      const row = this.q.sql('SELECT props FROM dav_properties WHERE user_id = ? AND collection = ? AND resource = ?').pluck().get(userId, collection, resource);
      const props = row === undefined ? {} : (JSON.parse(row as string) as Record<string, string>);
      for (const [name, value] of Object.entries(patch)) {
        if (value === null) delete props[name];
        else props[name] = value;
      }
      if (Object.keys(props).length === 0) this.q.sql('DELETE FROM dav_properties WHERE user_id = ? AND collection = ? AND resource = ?').run(userId, collection, resource);
      else this.q.sql('INSERT OR REPLACE INTO dav_properties (user_id, collection, resource, props) VALUES (?, ?, ?, ?)').run(userId, collection, resource, JSON.stringify(props));
    });
  }

  listUserSeqs(): Promise<Array<{ userId: string; seq: number }>> {
    return this.read(() => (this.q.sql('SELECT id AS userId, seq FROM users').all() as Array<{ userId: string; seq: number }>));
  }

  readBackupBatch(userId: string, afterSeq: number, limit: number): Promise<BackupBatch | null> {
    return this.read(() => readBackupBatchRows(this.q, userId, afterSeq, limit));
  }

  restoreAccount(account: RestoredAccount): Promise<void> {
    return this.write(() => restoreAccountRows(this.q, account));
  }

  restoreItems(userId: string, entries: RestoredItem[], now: string): Promise<RestoreItemsResult> {
    return this.write(() => restoreItemRows(this.q, userId, entries, now));
  }

  bumpEpoch(adopt?: AdoptedIdentity): Promise<ServerIdentity> {
    return this.write(() => bumpEpochRow(this.q, adopt));
  }

  stats(): Promise<StoreStats> {
    return this.read(() => {
      const users = (this.q.sql('SELECT count(*) AS n FROM users').get() as { n: number }).n;
      // Collection counts are maintained with every change, so this needs no scan of items.
      const liveItems = (this.q.sql('SELECT coalesce(sum(count), 0) AS n FROM collections').get() as { n: number }).n;
      return { users, liveItems, bytes: fileSize(this.path) + fileSize(`${this.path}-wal`) };
    });
  }

  settled(): Promise<void> {
    return this.commits.settled();
  }

  /** Flushes and makes durable every queued write, then closes the database. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.commits.close();
      await this.checkpointer.stop();
      closeSync(this.conn.walFd);
      this.conn.db.close();
    })();
    return this.closing;
  }

  private read<T>(run: () => T, options?: ReadOptions): Promise<T> {
    return options?.unsettled ? this.commits.readUnsettled(run) : this.commits.read(run);
  }

  private write<T>(run: () => T): Promise<T> {
    return this.commits.write(run);
  }

  private userRow(id: string): User | null {
    const r = this.q.sql(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  private collectionRow(userId: string, id: string): Collection | null {
    const r = this.q.sql(`SELECT ${COLLECTION_COLUMNS} FROM collections WHERE user_id = ? AND id = ?`).get(userId, id) as
      | CollectionRow
      | undefined;
    return r ? toCollection(r) : null;
  }

  private insertCollection(userId: string, c: NewCollection, now: string): Collection {
    if (this.q.sql('SELECT 1 FROM collections WHERE user_id = ? AND id = ?').get(userId, c.id)) {
      throw new KeepsakeError('collection_exists', `collection "${c.id}" already exists`);
    }
    this.q
      .sql(`INSERT INTO collections (user_id, ${COLLECTION_COLUMNS}) VALUES (?, ?, ?, ?, 0, ?, ?, NULL, NULL)`)
      .run(userId, c.id, c.kind, c.name, EMPTY_DIGEST, now);
    return { id: c.id, kind: c.kind, name: c.name, count: 0, digest: EMPTY_DIGEST, createdAt: now, lastChangeAt: null, deletedAt: null };
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
