// The writing side of a bulk restore: what the decoding threads validated, written on one
// connection, many users per transaction (while those threads decode the next users).
import type { RestoredAccount } from '../core/ports/record-store.js';
import { BulkRestoreWriter, restoreFreshCategoryRows } from '../store/sqlite/bulk-restore.js';
import type { StatementCache } from '../store/sqlite/statements.js';
import type { CategoryOutcome, DecodedUnit } from './bulk-pool.js';

/**
 * One writer connection for a whole bulk restore. A single connection keeps its page cache for the
 * whole run (each commit by another connection would make SQLite drop it), and writing here while
 * the worker threads decode puts decoding and writing on both cores.
 */
export class BulkWrites {
  private readonly writer: BulkRestoreWriter;

  constructor(dbPath: string) {
    this.writer = new BulkRestoreWriter(dbPath, new Int32Array(new SharedArrayBuffer(4)));
  }

  /** Time spent in transactions and with an fdatasync in flight (ms, for probes). */
  get timing(): { writeMs: number; syncMs: number } {
    return { writeMs: this.writer.timing.writeMs, syncMs: this.writer.timing.syncMs };
  }

  /**
   * Writes accounts and categories in one transaction (committed, durable only after {@link sync});
   * categories that did not validate are quarantined unwritten. If the transaction fails, each
   * account and category is written alone, so one bad category fails only itself (an account that
   * cannot be written fails the restore, as in `executeRestore`).
   */
  writeGroup(accounts: RestoredAccount[], units: DecodedUnit[]): CategoryOutcome[] {
    const out: CategoryOutcome[] = [];
    const valid: DecodedUnit[] = [];
    for (const u of units) {
      if (u.category.rows) valid.push(u);
      else out.push({ userId: u.userId, name: u.name, kind: u.category.kind, state: 'quarantined', problems: u.category.problems, inserted: 0, live: u.category.live });
    }
    if (accounts.length === 0 && valid.length === 0) return out;
    const w = this.writer;
    try {
      return out.concat(
        w.transaction((q) => {
          for (const a of accounts) w.restoreAccount(q, a);
          return valid.map((u) => writeUnit(q, u));
        }),
      );
    } catch {
      for (const a of accounts) w.transaction((q) => w.restoreAccount(q, a));
      for (const u of valid) {
        try {
          out.push(w.transaction((q) => writeUnit(q, u)));
        } catch (e) {
          out.push({ userId: u.userId, name: u.name, kind: u.category.kind, state: 'quarantined', problems: [(e as Error).message], inserted: 0, live: u.category.live });
        }
      }
      return out;
    }
  }

  /** Resolves once everything written before this call is durable. */
  sync(): Promise<void> {
    return this.writer.sync();
  }

  /** Call once no sync is in flight. */
  close(): void {
    this.writer.close();
  }
}

function writeUnit(q: StatementCache, u: DecodedUnit): CategoryOutcome {
  const base = { userId: u.userId, name: u.name, kind: u.category.kind, live: u.category.live };
  const r = restoreFreshCategoryRows(q, u.userId, u.category.rows!);
  return r === null ? { ...base, state: 'notFresh', inserted: 0 } : { ...base, state: 'written', inserted: r.inserted };
}
