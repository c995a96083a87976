// Bulk restore writes for the SQLite store: validated categories written straight into collections
// that hold nothing yet (a restore into an empty or lost store), many users per transaction, from
// the restore's worker threads on connections of their own.
import Database from 'better-sqlite3';
import { closeSync, fdatasync, openSync } from 'node:fs';
import { EMPTY_DIGEST } from '../../core/digest.js';
import type { RestoredAccount, RestoreItemsResult } from '../../core/ports/record-store.js';
import { restoreAccountRows } from './restore-writes.js';
import { StatementCache } from './statements.js';

/** Values per item in {@link FreshCategory.items}: collection, id, hash, modified, deleted (0/1), content. */
export const FRESH_ITEM_FIELDS = 6;
/** Values per revision in {@link FreshCategory.revisions}: collection, id, version, hash, modified, deleted (0/1), content, reason, kept_at. */
export const FRESH_REVISION_FIELDS = 9;

/**
 * One user's category as a backup recorded it, already validated (every live item hashes to its
 * hash; each collection's live count and digest are the recorded ones), in a compact form that
 * crosses threads cheaply: flat arrays of column values instead of one object per row.
 */
export interface FreshCategory {
  /** The category's collections with the count and digest the backup recorded. */
  collections: Array<{ id: string; count: number; digest: string }>;
  /** Item rows (live and tombstones), {@link FRESH_ITEM_FIELDS} values each, in restore order. */
  items: Array<string | number | null>;
  /** Revisions kept for those items, {@link FRESH_REVISION_FIELDS} values each, written with their own versions. */
  revisions: Array<string | number | null>;
}

/**
 * Writes `category` for `userId` if every one of its collections exists and holds nothing (no
 * item row, count 0, empty digest) — checked inside the caller's write transaction, so a write by
 * anyone else (a device, an earlier interrupted run of this restore) is seen. Returns null and
 * writes nothing otherwise: the caller then restores that category item by item
 * (`restoreItemRows`), which keeps newer writes. The rows written are exactly what
 * `restoreItemRows` writes into fresh collections: every item inserted under the user's next
 * sequence number, revisions with their own, and the collections' count and digest the backup
 * recorded (equal to the digest of the items written, which the caller validated).
 */
export function restoreFreshCategoryRows(q: StatementCache, userId: string, category: FreshCategory): RestoreItemsResult | null {
  // Items are keyed by their collection's `ord` (schema 5). One statement per collection checks it
  // is fresh (a bulk restore writes 60,000 categories: statements per category count).
  const collection = q.sql('SELECT ord, count, digest, EXISTS (SELECT 1 FROM items WHERE collection_ord = collections.ord) AS used FROM collections WHERE user_id = ? AND id = ?');
  const ords = new Map<string, number>();
  for (const c of category.collections) {
    const r = collection.get(userId, c.id) as { ord: number; count: number; digest: string; used: number } | undefined;
    if (!r || r.count !== 0 || r.digest !== EMPTY_DIGEST || r.used) return null;
    ords.set(c.id, r.ord);
  }
  const it = category.items;
  const n = it.length / FRESH_ITEM_FIELDS;
  // The user's sequence numbers for these items, taken in one statement: the items get the n numbers
  // after the user's last one, in order.
  const taken =
    n > 0
      ? (q.sql('UPDATE users SET seq = seq + ? WHERE id = ? RETURNING seq').get(n, userId) as { seq: number } | undefined)
      : (q.sql('SELECT seq FROM users WHERE id = ?').get(userId) as { seq: number } | undefined);
  if (!taken) return null;
  let seq = taken.seq - n;
  const insertItem = q.sql('INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content, collection_ord) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insertRevision = q.sql(
    `INSERT OR IGNORE INTO revisions (user_id, collection, id, version, hash, modified, deleted, content, reason, kept_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const last = new Map<string, string>();
  for (let k = 0; k < it.length; k += FRESH_ITEM_FIELDS) {
    const cid = it[k] as string;
    const modified = it[k + 3] as string;
    const ord = ords.get(cid);
    if (ord === undefined) throw new Error(`bulk restore: item of collection "${cid}", which the category does not list`);
    insertItem.run(userId, cid, it[k + 1], ++seq, it[k + 2], modified, it[k + 4], it[k + 5], ord);
    const before = last.get(cid);
    if (before === undefined || modified > before) last.set(cid, modified);
  }
  const rv = category.revisions;
  for (let k = 0; k < rv.length; k += FRESH_REVISION_FIELDS) {
    insertRevision.run(userId, rv[k], rv[k + 1], rv[k + 2], rv[k + 3], rv[k + 4], rv[k + 5], rv[k + 6], rv[k + 7], rv[k + 8]);
  }
  const update = q.sql('UPDATE collections SET count = ?, digest = ?, last_change_at = ? WHERE ord = ?');
  for (const c of category.collections) update.run(c.count, c.digest, last.get(c.id) ?? null, ords.get(c.id)!);
  return { inserted: n, replaced: 0, keptNewer: 0, unchanged: 0 };
}

/** The range of collection ords for users whose collections' kinds are not in the order of the kinds' ranges. */
const MIXED = '';
/** Collection ords each kind's range holds (2^32; six kinds stay far below 2^53). */
const ORDS_PER_KIND = 2 ** 32;

/**
 * A write connection of its own to an open store's file, for a restore's worker thread. Writers
 * of one restore take turns through `lock` (a shared Int32 word, 0 = free), so none waits in
 * SQLite's busy handler; anyone else writing (the server's own connection, the checkpointer) is
 * waited for by `busy_timeout`. Durability as in group-commit.ts: `synchronous = NORMAL` (COMMIT
 * writes the WAL frames without syncing them); {@link BulkRestoreWriter.sync} then fdatasyncs the
 * `-wal` file on the threadpool, so the thread goes on decoding meanwhile. What a transaction
 * wrote is durable once a `sync()` called after it resolves — and not to be reported before.
 */
export class BulkRestoreWriter {
  private readonly db: Database.Database;
  private readonly walFd: number;
  private holding = false;
  /** Where this writer's ranges of collection ords start, and the next ord of each kind. */
  private ordBase: number | null = null;
  private readonly nextOrd = new Map<string, number>();
  readonly q: StatementCache;

  constructor(
    path: string,
    private readonly lock: Int32Array,
  ) {
    this.db = new Database(path, { fileMustExist: true });
    this.db.pragma('busy_timeout = 10000');
    const mode = this.db.pragma('journal_mode', { simple: true });
    if (mode !== 'wal') {
      this.db.close();
      throw new Error(`${path} is not in WAL mode (${String(mode)})`);
    }
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('wal_autocheckpoint = 0');
    // A restore writes every kind of every user: the index pages it returns to stay cached.
    this.db.pragma('cache_size = -65536');
    this.db.pragma('temp_store = MEMORY');
    this.q = new StatementCache(this.db);
    // Valid while any connection is open: SQLite reuses the WAL in place and deletes it only when the last one closes.
    this.walFd = openSync(`${path}-wal`, 'r');
  }

  /** Milliseconds spent waiting for the lock, in transactions, and with an fdatasync in flight (for probes). */
  readonly timing = { waitMs: 0, writeMs: 0, syncMs: 0 };

  /** Runs `fn` in one write transaction (committed, not yet durable: see {@link sync}); rolled back if it throws. */
  transaction<T>(fn: (q: StatementCache) => T): T {
    return this.exclusive(() => {
      const t1 = performance.now();
      try {
        return this.db.transaction(() => fn(this.q)).immediate();
      } finally {
        this.timing.writeMs += performance.now() - t1;
      }
    });
  }

  /**
   * Runs `fn` (which may run several transactions) while holding the restore's write lock: one
   * writer's transactions in a row keep its page cache, which each commit by another connection
   * makes SQLite drop.
   */
  exclusive<T>(fn: () => T): T {
    if (this.holding) return fn();
    const t0 = performance.now();
    while (Atomics.compareExchange(this.lock, 0, 0, 1) !== 0) Atomics.wait(this.lock, 0, 1, 100);
    this.timing.waitMs += performance.now() - t0;
    this.holding = true;
    try {
      return fn();
    } finally {
      this.holding = false;
      Atomics.store(this.lock, 0, 0);
      Atomics.notify(this.lock, 0, 1);
    }
  }

  /** Resolves once everything committed before this call is durable (an fdatasync of the WAL, on the threadpool). */
  sync(): Promise<void> {
    const t0 = performance.now();
    return new Promise((resolve, reject) =>
      fdatasync(this.walFd, (e) => {
        this.timing.syncMs += performance.now() - t0;
        if (e) reject(e);
        else resolve();
      }),
    );
  }

  /**
   * Writes accounts (see `RecordStore.restoreAccount`); call inside {@link transaction}. The
   * collections it creates get kind-major ords: each kind its own range above every ord in the
   * store when this writer first wrote one (see `CollectionOrds`).
   */
  restoreAccount(q: StatementCache, account: RestoredAccount): void {
    restoreAccountRows(q, account, (kinds) => {
      // A user whose kinds come in another order than their ranges takes ords from a range of its
      // own for such users, one after the other (a user's collections are listed by ord).
      const ranges = kinds.map((kind) => this.nextOrdOf(q, kind));
      const inOrder = ranges.every((start, n) => n === 0 || start >= ranges[n - 1]);
      return kinds.map((kind) => this.takeOrd(q, inOrder ? kind : MIXED));
    });
  }

  /** The next collection ord of `range` (a kind's, or {@link MIXED}), ranges starting above every ord the store held when this writer first wrote one. */
  private nextOrdOf(q: StatementCache, range: string): number {
    if (this.ordBase === null) this.ordBase = ((q.sql('SELECT max(ord) AS m FROM collections').get() as { m: number | null }).m ?? 0) + 1;
    if (!this.nextOrd.has(range)) this.nextOrd.set(range, this.ordBase + this.nextOrd.size * ORDS_PER_KIND);
    return this.nextOrd.get(range)!;
  }

  private takeOrd(q: StatementCache, range: string): number {
    const ord = this.nextOrdOf(q, range);
    this.nextOrd.set(range, ord + 1);
    return ord;
  }

  /** Call once no sync is in flight. */
  close(): void {
    closeSync(this.walFd);
    this.db.close();
  }
}
