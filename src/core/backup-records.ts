// How a store turns the item and revision rows after a sequence number into one backup batch's records.
import type { LogRecord } from './ports/record-store.js';

/**
 * Merges item rows and revision rows (each read in version order, at most `limit` of each) into
 * at most `limit` records in version order. The batch is `complete` when nothing after it was
 * cut off by a limit; then it reaches `seq`, else it reaches its last record's version.
 */
export function mergeBackupRecords(
  items: LogRecord[],
  revisions: LogRecord[],
  limit: number,
  seq: number,
): { records: LogRecord[]; upTo: number; complete: boolean } {
  const merged = [...items, ...revisions].sort((a, b) => a.version - b.version);
  const records = merged.slice(0, limit);
  const complete = items.length < limit && revisions.length < limit && merged.length <= limit;
  return { records, upTo: complete ? seq : records[records.length - 1].version, complete };
}
