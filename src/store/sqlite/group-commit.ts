// Group commit: queued writes run together in one transaction per tick and share one fsync.
import type Database from 'better-sqlite3';
import { KeepsakeError } from '../../core/errors.js';
import type { WalGrowth } from './wal-growth.js';
import type { WalSync } from './wal-sync.js';

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Counters that show grouping at work (tests, metrics). */
export interface DurabilityStats {
  /** fsyncs of the WAL issued since open. */
  fsyncs: number;
  /** Transactions committed by the group-commit queue. */
  groups: number;
  /** Write calls settled. */
  writes: number;
  /** Of `fsyncs`, those made on the event loop because nothing else was waiting (SQLite only). */
  inlineFsyncs?: number;
}

/**
 * How a write becomes an acknowledgement:
 *
 * 1. `write(run)` queues `run` (a synchronous function of the database, with no other side
 *    effects) and schedules a flush with `setImmediate`, so every write issued in the same tick
 *    lands in one group.
 * 2. The flush runs the whole group in one `BEGIN IMMEDIATE` transaction. If any call throws,
 *    or SQLite aborts the transaction (disk full, I/O error), or COMMIT fails, everything is
 *    rolled back and each call is re-run in a transaction of its own (calls are pure functions
 *    of the database, so running one again is safe): one bad call never fails the others and a
 *    failed call leaves nothing behind.
 * 3. The database runs `journal_mode=WAL, synchronous=NORMAL`, so COMMIT only write()s the frames
 *    to the `-wal` file (no fsync on the event loop). `WalSync` then fsyncs that file on the
 *    threadpool; the group's promises settle only after that fsync, in commit order. While
 *    syncs run, the next groups commit and each starts a sync of its own, up to
 *    `MAX_SYNCS_IN_FLIGHT`; groups beyond that share the next one.
 *
 * Why this is sound. SQLite documents NORMAL in WAL mode as: "the WAL file is synchronized
 * before each checkpoint and the database file is synchronized after each completed checkpoint
 * and the WAL file header is synchronized when a WAL file begins to be reused after a
 * checkpoint, but no sync operations occur during most transactions" (pragma.html#pragma_synchronous).
 * So the only state a power cut can take back is the WAL tail written since the last sync, and
 * our fsync after COMMIT makes that durable before anyone is told. Checkpoints (automatic, every
 * ~1000 pages, run inside a COMMIT) stay correct because they sync the WAL before copying it.
 * A kill -9 alone never loses a committed transaction: the frames are in the OS page cache.
 *
 * The catch with NORMAL is visibility: a commit is readable before it is durable. A client that
 * read such a version and then saw it vanish in a power cut would hold a sequence number the
 * server hands out again. So reads go through `read()`, which holds a result back until
 * everything it could have seen is durable (including commits by other connections, which our
 * fsync of the shared `-wal` file covers too). synchronous=FULL would avoid that rule, but it
 * fsyncs inside COMMIT on the event loop, stalling every request for the length of an fsync and
 * ruling out pipelining; grouping with an asynchronous fsync keeps the loop free.
 */
export class GroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private closed = false;
  /** While set, queued writes wait (see `hold`). */
  private held = false;
  private seenDataVersion: number;
  /** An unsettled read ran since `data_version` was last checked (see `readUnsettled`). */
  private unnoted = false;
  private groups = 0;
  private writes = 0;
  private readonly stmt: Record<'begin' | 'commit' | 'rollback', Database.Statement>;
  private readonly dataVersion: Database.Statement;
  private readonly totalChanges: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly sync: WalSync,
    /** Grows the WAL ahead of the writer (see wal-growth.ts); absent: commits append as SQLite does. */
    private readonly growth: WalGrowth | null = null,
  ) {
    this.stmt = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
    };
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.totalChanges = db.prepare('SELECT total_changes()').pluck();
    this.seenDataVersion = this.dataVersion.get() as number;
  }

  /** Queues a write; resolves with its result once it is committed and durable. */
  write<T>(run: () => T): Promise<T> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * Holds queued writes back (they keep queueing and run as one group on `release`). The
   * checkpointer holds the writer for the moment it needs to copy the rest of the WAL, so the
   * log can start over from its beginning; reads go on.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.schedule();
  }

  /**
   * Runs a read now and resolves with its result once everything it could have seen is durable:
   * our own committed groups, and commits by other connections (seen through `data_version`),
   * which our fsync of the shared `-wal` file covers too.
   */
  async read<T>(run: () => T): Promise<T> {
    const refused = this.refusal();
    if (refused) throw refused;
    const value = run();
    this.noteOtherConnections();
    await this.sync.whenDurable();
    return value;
  }

  /**
   * Runs a read now and resolves at once, possibly with commits that are not durable yet: for a
   * caller that writes next (its acknowledgement waits for an fsync covering everything it read)
   * or waits for `settled()` before revealing anything it derived (see `ReadOptions`).
   */
  readUnsettled<T>(run: () => T): Promise<T> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    try {
      const value = run();
      // Commits of other connections seen here must be covered by the fsync that whatever reveals
      // this read waits for. That is checked lazily, where such a wait starts (the next flush,
      // `read`, `settled`): PRAGMA data_version takes and drops a WAL read lock (two fcntl calls)
      // like any read, and a CardDAV PUT makes three unsettled reads before its write.
      this.unnoted = true;
      return Promise.resolve(value);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Resolves once everything committed (or seen committed) so far is durable. */
  settled(): Promise<void> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (this.unnoted) this.noteOtherConnections();
    return this.sync.whenDurable();
  }

  /** Flushes queued writes and waits until they are durable; later calls are refused. */
  async close(): Promise<void> {
    this.held = false;
    this.flush();
    this.closed = true;
    await this.sync.whenDurable().catch(() => {});
  }

  stats(): DurabilityStats {
    return { fsyncs: this.sync.fsyncs, groups: this.groups, writes: this.writes, inlineFsyncs: this.sync.inlineFsyncs };
  }

  /** See `WalSync.syncInlineWhen`. */
  syncInlineWhen(predicate: (() => boolean) | null): void {
    this.sync.syncInlineWhen(predicate);
  }

  private refusal(): KeepsakeError | null {
    if (this.closed) return new KeepsakeError('unavailable', 'the store is closed');
    return this.sync.failure;
  }

  private schedule(): void {
    if (this.scheduled || this.held || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Runs every queued write now (synchronously) and arranges for them to settle once durable. */
  private flush(): void {
    if (this.held) return; // `release` schedules the next flush
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const changesBefore = this.totalChanges.get() as number;
    const outcomes = this.runGrouped(batch) ?? this.runEachAlone(batch);
    if ((this.totalChanges.get() as number) !== changesBefore) {
      this.sync.markCommitted();
      // The sync this group waits for flushes the whole `-wal` file, so it also covers every
      // other connection's commit made before ours, which is all an unsettled read can have
      // seen: no `data_version` read (a WAL read lock, two fcntl calls) on the path of a write.
      // Another connection's commit since the last check then shows up at the next check as
      // one more commit point, which costs at most one more sync, never a missed one.
      this.unnoted = false;
    } else {
      this.noteOtherConnections();
    }
    const settle = () => {
      this.writes += batch.length;
      batch.forEach((w, i) => {
        const o = outcomes[i];
        if (o.ok) w.resolve(o.value);
        else w.reject(o.error);
      });
    };
    // Failed calls settle after the fsync too: their errors may reveal state (e.g. "user exists")
    // that an earlier, not yet durable group created.
    this.sync.whenDurable().then(settle, (error) => batch.forEach((w) => w.reject(error)));
  }

  /**
   * One transaction for the whole group, without savepoints. Returns null when any call threw or
   * the transaction failed: everything is rolled back and the caller redoes the group call by call.
   * (A SAVEPOINT per call made SQLite copy every page a call touched into a statement journal
   * first; with random-key index inserts that was most pages, and it halved batched throughput.
   * Calls that throw are rare — bad requests are refused before they reach the store — so paying
   * a redo then is cheaper than a journal copy always.)
   */
  private runGrouped(batch: QueuedWrite[]): Outcome[] | null {
    try {
      this.stmt.begin.run();
    } catch (error) {
      return batch.map(() => ({ ok: false, error }));
    }
    // Under the write lock, before any frame of this group is written.
    this.growth?.beforeWrites();
    const outcomes: Outcome[] = [];
    try {
      for (const w of batch) {
        outcomes.push({ ok: true, value: w.run() });
        // SQLite ended the transaction underneath us (SQLITE_FULL, SQLITE_IOERR roll it back):
        // the next call must not run in autocommit mode.
        if (!this.db.inTransaction) return null;
      }
      this.stmt.commit.run();
      this.groups++;
      return outcomes;
    } catch {
      this.rollbackQuietly();
      return null;
    }
  }

  /** The fallback: each call in its own transaction, so only the calls that fail alone reject. */
  private runEachAlone(batch: QueuedWrite[]): Outcome[] {
    return batch.map((w): Outcome => {
      try {
        this.stmt.begin.run();
        const value = w.run();
        this.stmt.commit.run();
        this.groups++;
        return { ok: true, value };
      } catch (error) {
        this.rollbackQuietly();
        return { ok: false, error };
      }
    });
  }

  private rollbackQuietly(): void {
    try {
      if (this.db.inTransaction) this.stmt.rollback.run();
    } catch {
      // SQLite already rolled back (or the connection is unusable, which the next BEGIN reports).
    }
  }

  private noteOtherConnections(): void {
    this.unnoted = false;
    const v = this.dataVersion.get() as number;
    if (v !== this.seenDataVersion) {
      this.seenDataVersion = v;
      this.sync.markCommitted();
    }
  }
}
