// Makes committed WAL frames durable with asynchronous fdatasyncs, each one covering every commit before it.
import { fdatasync, fdatasyncSync } from 'node:fs';
import { KeepsakeError } from '../../core/errors.js';

interface Waiter {
  point: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One sync call on the threadpool: the commit point it covers, and how it ended. */
interface RunningSync {
  target: number;
  done: boolean;
  error: Error | null;
}

/**
 * How many syncs may run at once. A commit waits for a sync that *starts* after it: with one sync
 * at a time it waits for the running one and then a whole next one (~2 sync times); with several,
 * a new group starts its own sync at once (~1 sync time), and this disk completes overlapping
 * flushes about as fast as single ones (bench/fsync-probe.ts, 8 writers: ~1.5× the acknowledged
 * writes per second of one sync at a time while syncs are slow under load; 0.86× on a quiet disk,
 * where a sync is a tenth of a PUT and CPU bounds throughput instead).
 * Three leaves one of libuv's four threadpool threads to file and crypto work.
 */
export const MAX_SYNCS_IN_FLIGHT = 3;

/**
 * Tracks "sync points": every committed group (and every commit by another connection that we
 * may have read) takes the next point, and `whenDurable(point)` resolves once an fdatasync that
 * *started after* that commit has completed, and every sync started before it has completed
 * too. Commits that land while syncs run are covered together by the next one (group commit),
 * so the number of syncs grows with time spent syncing, not with the number of writes. Syncs
 * are settled in the order they started and waiters released in the order they asked, so
 * groups are acknowledged in commit order.
 *
 * fdatasync works on the inode, not on the descriptor, so a sync on our own descriptor of the
 * `-wal` file flushes frames SQLite wrote through its descriptor (and frames other processes
 * wrote to the same file). It also flushes the file size when frames were appended (the
 * metadata needed to read the data back), which is all the WAL needs; SQLite itself syncs
 * WAL files with fdatasync on Linux.
 */
export class WalSync {
  private committed = 0;
  private durable = 0;
  /** Syncs started and not yet settled, in start order. */
  private running: RunningSync[] = [];
  private waiters: Waiter[] = [];
  private broken: KeepsakeError | null = null;
  /** Syncs issued so far; an observable for tests and metrics. */
  fsyncs = 0;
  /** Syncs of those made on the calling thread (see `syncInlineWhen`). */
  inlineFsyncs = 0;
  private inlineWhen: (() => boolean) | null = null;

  constructor(
    private readonly walFd: number,
    private readonly maxInFlight = MAX_SYNCS_IN_FLIGHT,
  ) {}

  /** Records that something not yet durable was committed; returns the point that covers it. */
  markCommitted(): number {
    return ++this.committed;
  }

  /**
   * Lets a sync run on the calling thread (the event loop) when no other sync is running and
   * `predicate` says nothing else is waiting on this process (the server passes "at most one
   * request in flight"). One client waiting for its own write gains nothing from the threadpool:
   * the loop has nothing else to do meanwhile, and the hand-off (queue to a pool thread, wake it,
   * post the completion back, wake the loop) costs two thread wake-ups per write — on this 2-core
   * VM ~0.1 ms of a ~0.8 ms CardDAV PUT. With more requests in flight syncs stay on the pool, so
   * the loop keeps serving them and commits the next groups.
   */
  syncInlineWhen(predicate: (() => boolean) | null): void {
    this.inlineWhen = predicate;
  }

  /** Set once a sync failed: from then on nothing can be acknowledged. */
  get failure(): KeepsakeError | null {
    return this.broken;
  }

  /** Resolves once everything committed up to `point` (default: everything so far) is durable. */
  whenDurable(point = this.committed): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    if (point <= this.durable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ point, resolve, reject });
      this.startSync();
    });
  }

  private startSync(): void {
    const covered = this.running.length > 0 ? this.running[this.running.length - 1].target : this.durable;
    if (this.broken || this.running.length >= this.maxInFlight || covered >= this.committed) return;
    // Only when someone waits for a point no running sync covers.
    if (!this.waiters.some((w) => w.point > covered)) return;
    const sync: RunningSync = { target: this.committed, done: false, error: null };
    this.running.push(sync);
    this.fsyncs++;
    if (this.running.length === 1 && this.inlineWhen?.()) {
      this.inlineFsyncs++;
      try {
        fdatasyncSync(this.walFd);
      } catch (error) {
        sync.error = error as Error;
      }
      sync.done = true;
      // Settles this sync (and its waiters, whose promises resolve on the next microtask) now.
      this.settle();
      return;
    }
    // Runs on the libuv threadpool: the event loop keeps committing the next groups meanwhile.
    fdatasync(this.walFd, (err) => {
      sync.done = true;
      sync.error = err;
      this.settle();
    });
  }

  /** Settles finished syncs in start order, releases the waiters they cover, starts the next sync. */
  private settle(): void {
    while (this.running.length > 0 && this.running[0].done) {
      const s = this.running.shift()!;
      if (s.error) return this.fail(s.error);
      this.durable = Math.max(this.durable, s.target);
    }
    const ready = this.waiters.filter((w) => w.point <= this.durable);
    this.waiters = this.waiters.filter((w) => w.point > this.durable);
    for (const w of ready) w.resolve();
    this.startSync();
  }

  /**
   * After a failed sync the kernel may have dropped the dirty pages and reported the error only
   * once ("fsyncgate"), so a retry proving nothing. The committed-but-unacknowledged writes are
   * in an unknown state: we refuse everything from now on and leave recovery to a restart, where
   * SQLite reads back exactly what reached the disk.
   */
  private fail(cause: Error): void {
    this.broken = new KeepsakeError('unavailable', 'the store could not make writes durable (fsync failed); restart the server', { cause });
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(this.broken);
  }
}
