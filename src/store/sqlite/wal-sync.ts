// Makes committed WAL frames durable with asynchronous fsyncs, each one covering every commit before it.
import { fsync } from 'node:fs';
import { KeepsakeError } from '../../core/errors.js';

interface Waiter {
  point: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Tracks "sync points": every committed group (and every commit by another connection that we
 * may have read) takes the next point, and `whenDurable(point)` resolves once an fsync that
 * *started after* that commit has completed. Only one fsync runs at a time; commits that land
 * while it runs are covered together by the next one (pipelining), so the number of fsyncs
 * grows with time spent syncing, not with the number of writes. Waiters are released in the
 * order they asked, so groups are acknowledged in commit order.
 *
 * fsync works on the inode, not on the descriptor, so an fsync on our own descriptor of the
 * `-wal` file flushes frames SQLite wrote through its descriptor (and frames other processes
 * wrote to the same file).
 */
export class WalSync {
  private committed = 0;
  private durable = 0;
  private inFlight = false;
  private waiters: Waiter[] = [];
  private broken: KeepsakeError | null = null;
  /** fsyncs issued so far; an observable for tests and metrics. */
  fsyncs = 0;

  constructor(private readonly walFd: number) {}

  /** Records that something not yet durable was committed; returns the point that covers it. */
  markCommitted(): number {
    return ++this.committed;
  }

  /** Set once an fsync failed: from then on nothing can be acknowledged. */
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
    if (this.inFlight || this.broken || this.durable >= this.committed) return;
    this.inFlight = true;
    const target = this.committed;
    this.fsyncs++;
    // Runs on the libuv threadpool: the event loop keeps committing the next group meanwhile.
    fsync(this.walFd, (err) => {
      this.inFlight = false;
      if (err) return this.fail(err);
      this.durable = target;
      const ready = this.waiters.filter((w) => w.point <= target);
      this.waiters = this.waiters.filter((w) => w.point > target);
      for (const w of ready) w.resolve();
      this.startSync();
    });
  }

  /**
   * After a failed fsync the kernel may have dropped the dirty pages and reported the error only
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
