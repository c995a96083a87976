// The item rows this server's writes just committed, kept until shipped, so the shipper need not read them back from the store.
import type { ChangeOutcome } from '../core/model.js';
import type { BackupBatch, LogRecord, RecordStore } from '../core/ports/record-store.js';

/**
 * Per user, the log records that `applyChanges` reported as committed and no open target has
 * shipped yet, ascending by sequence number. Under a steady write load reading these rows back
 * from the store was most of what shipping cost the serving thread (an index lookup and a row
 * object per record, ~3–5 µs each in SQLite). The shipper takes from here only a run without a
 * gap right after what a target has, and reads everything after that run from the store in one
 * snapshot (collections, account, later rows), so a sequence number missing here — a conflict
 * copy, a restore, a write by another process, a record dropped to bound memory — only means the
 * store is read from that number on, never that a record is missed.
 *
 * A record kept here equals the store's row under its number at commit: the row is immutable
 * except that a later write may move it to the revisions (reason `overwritten`/`deleted`), and a
 * segment may carry either form (docs/backup-format.md, "Payloads").
 */
export class RecentWrites {
  private readonly byUser = new Map<string, LogRecord[]>();
  private total = 0;

  /**
   * `maxRecords` bounds the memory held (about 0.5–1 KB a record) while a target is down or
   * slow: past it everything is dropped, and targets read from the store as without this cache.
   */
  constructor(private readonly maxRecords = 20_000) {}

  /** Keeps the rows a committed write reports, above `floor` (what every shipping target already has). */
  add(userId: string, outcomes: readonly ChangeOutcome[], floor: number): void {
    let list = this.byUser.get(userId);
    for (const o of outcomes) {
      // 'applied' carries the row under its sequence number (a no-op: the row as it already was).
      // A conflict's revision is not in its outcome: its number stays a gap, read from the store.
      if (o.status !== 'applied' || o.item.version <= floor) continue;
      const record: LogRecord = { type: 'item', ...o.item };
      if (!list) this.byUser.set(userId, (list = []));
      // Writes of one user are mostly reported in commit order: insert from the end.
      let i = list.length;
      while (i > 0 && list[i - 1].version > record.version) i--;
      if (i > 0 && list[i - 1].version === record.version) continue;
      list.splice(i, 0, record);
      this.total++;
    }
    if (this.total > this.maxRecords) this.clear();
  }

  /**
   * The kept records numbered `afterSeq + 1`, `afterSeq + 2`, … without a gap, at most `max`
   * (empty when `afterSeq + 1` is not kept).
   */
  runAfter(userId: string, afterSeq: number, max: number): LogRecord[] {
    const list = this.byUser.get(userId);
    if (!list || max <= 0) return [];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].version <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < list.length && end - lo < max && list[end].version === afterSeq + 1 + (end - lo)) end++;
    return list.slice(lo, end);
  }

  /**
   * The user's next batch after `afterSeq`: the kept run right after it, then the store's rows
   * after that run, read with the collections and account in one snapshot of the store as
   * `readBackupBatch` alone would (which is all it does when nothing is kept from `afterSeq + 1`).
   */
  async readBatchAfter(store: RecordStore, userId: string, afterSeq: number, limit: number): Promise<BackupBatch | null> {
    const known = this.runAfter(userId, afterSeq, limit - 1);
    if (known.length === 0) return store.readBackupBatch(userId, afterSeq, limit);
    const knownTo = known[known.length - 1].version;
    const rest = await store.readBackupBatch(userId, knownTo, limit - known.length);
    // Every kept row was committed before it was kept, so the store is at least that far.
    if (!rest || rest.seq < knownTo) return rest && store.readBackupBatch(userId, afterSeq, limit);
    return { ...rest, records: known.concat(rest.records) };
  }

  /** Drops the user's records numbered up to `seq` (every target that takes from here has them). */
  forget(userId: string, seq: number): void {
    const list = this.byUser.get(userId);
    if (!list) return;
    let n = 0;
    while (n < list.length && list[n].version <= seq) n++;
    if (n === 0) return;
    this.total -= n;
    if (n === list.length) this.byUser.delete(userId);
    else list.splice(0, n);
  }

  clear(): void {
    this.byUser.clear();
    this.total = 0;
  }

  /** How many records are kept (for tests). */
  get size(): number {
    return this.total;
  }
}
