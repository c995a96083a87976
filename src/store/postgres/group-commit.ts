// Group commit: queues concurrent applyChanges calls and commits them together, one transaction (one WAL flush) per group.
import type { Pool } from 'pg';
import { KeepsakeError } from '../../core/errors.js';
import type { ChangeOutcome } from '../../core/model.js';
import { type ApplyCall, type CallResult, applyGroup } from './apply-changes.js';
import { isRetryable, toStoreError } from './pg-errors.js';

/** Counters that show how writes reached the disk. */
export interface DurabilityStats {
  /** Transactions that wrote and committed (each one WAL flush, as synchronous_commit is on). */
  commits: number;
  /** applyChanges calls answered from a committed transaction. */
  calls: number;
  /** Transactions run again after a serialization failure or deadlock. */
  retries: number;
  /** Groups that failed as a whole and were re-run one call at a time. */
  splits: number;
}

/** Tuning for the committer; the defaults suit a 2-core server. */
export interface GroupCommitOptions {
  /** Groups in flight at once: one can plan and write while another waits for its WAL flush. */
  maxInFlight?: number;
  /** Soft cap on changes per group, so one transaction's arrays stay a few MB. */
  maxChangesPerGroup?: number;
  /** Attempts per transaction on serialization failure or deadlock. */
  maxAttempts?: number;
}

interface Pending {
  call: ApplyCall;
  resolve(outcomes: ChangeOutcome[]): void;
  reject(error: unknown): void;
}

/**
 * There is no timer: a call starts a group at once if fewer than `maxInFlight` groups are
 * running; otherwise it waits, and everything that queued up while a commit was flushing goes
 * into the next group. Under load the group size therefore follows the WAL flush time by itself.
 *
 * A user is in at most one running group. A second group holding the same user would only wait
 * for that user's row lock — while holding a connection and the locks of every other user in it —
 * so that user's later calls stay queued, in order, and go out with the next group.
 */
export class GroupCommitter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private readonly busyUsers = new Set<string>();
  private closed = false;
  private idle: (() => void)[] = [];
  private readonly counters: DurabilityStats = { commits: 0, calls: 0, retries: 0, splits: 0 };
  private readonly maxInFlight: number;
  private readonly maxChangesPerGroup: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly pool: Pool,
    options: GroupCommitOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 2;
    this.maxChangesPerGroup = options.maxChangesPerGroup ?? 5000;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  /** Queues one call; resolves after the transaction holding it has committed. */
  submit(call: ApplyCall): Promise<ChangeOutcome[]> {
    if (this.closed) return Promise.reject(new KeepsakeError('unavailable', 'the record store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ call, resolve, reject });
      this.pump();
    });
  }

  /** A copy of the counters. */
  stats(): DurabilityStats {
    return { ...this.counters };
  }

  /** Refuses new calls and resolves once every queued and running group has finished. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group = this.takeGroup();
      if (group.length === 0) return; // everything queued belongs to users of running groups
      const users = new Set(group.map((p) => p.call.userId));
      for (const u of users) this.busyUsers.add(u);
      this.inFlight++;
      void this.flush(group).finally(() => {
        for (const u of users) this.busyUsers.delete(u);
        this.inFlight--;
        if (this.queue.length > 0) this.pump();
        else if (this.inFlight === 0) for (const done of this.idle.splice(0)) done();
      });
    }
  }

  /** Takes queued calls in order, skipping users of running groups, up to the size cap. */
  private takeGroup(): Pending[] {
    const group: Pending[] = [];
    const rest: Pending[] = [];
    let changes = 0;
    let full = false;
    for (const p of this.queue) {
      // Once one call does not fit, none after it may go either: a later, smaller call of the
      // same user would overtake it.
      full ||= group.length > 0 && changes + p.call.changes.length > this.maxChangesPerGroup;
      if (full || this.busyUsers.has(p.call.userId)) {
        rest.push(p);
      } else {
        group.push(p);
        changes += p.call.changes.length;
      }
    }
    this.queue.splice(0, this.queue.length, ...rest);
    return group;
  }

  private async flush(group: Pending[]): Promise<void> {
    try {
      const results = await this.transaction(group.map((p) => p.call));
      group.forEach((p, i) => settle(p, results[i]));
    } catch (error) {
      if (group.length === 1) {
        group[0].reject(toStoreError(error));
        return;
      }
      // One bad call (or an unlucky moment) must not fail the others: run each on its own. If the
      // failed COMMIT did in fact commit, the re-run finds the changeIds and answers `duplicate`.
      this.counters.splits++;
      for (const p of group) {
        try {
          settle(p, (await this.transaction([p.call]))[0]);
        } catch (e) {
          p.reject(toStoreError(e));
        }
      }
    }
  }

  /** One transaction for the given calls, run again on serialization failure or deadlock. */
  private async transaction(calls: ApplyCall[]): Promise<CallResult[]> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const { results, wrote } = await applyGroup(client, calls);
        await client.query('COMMIT');
        if (wrote) this.counters.commits++;
        this.counters.calls += results.filter((r) => r.ok).length;
        return results;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        if (isRetryable(error) && attempt < this.maxAttempts) {
          this.counters.retries++;
          await sleep(Math.random() * 5 * attempt);
          continue;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }
}

function settle(p: Pending, r: CallResult): void {
  if (r.ok) p.resolve(r.outcomes);
  else p.reject(r.error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
