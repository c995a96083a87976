// The rules that decide what one pushed change does to the current item. Pure; stores call it
// inside their transaction so the decision and the write are atomic.
import type { PreparedChange, StoredItem } from './model.js';

/**
 * - `write`: commit a new version; if a live current version exists it is kept as a revision.
 * - `conflict`: the base is stale; the change's content is kept as a `conflict` revision and the
 *   current item stays (invariant 2: nothing is silently discarded).
 * - `noop`: the change would not alter anything (same bytes, or deleting a tombstone); answer
 *   with the current item.
 * - `missing`: delete of an item the server never had.
 * An edit of a deleted item resurrects it (edit wins over delete).
 */
export type Decision = 'write' | 'conflict' | 'noop' | 'missing';

export function decideChange(current: StoredItem | null, change: PreparedChange): Decision {
  const base = change.baseVersion ?? 0;
  if (current === null) {
    return change.deleted ? 'missing' : 'write';
  }
  if (change.deleted) {
    if (current.deleted) return 'noop';
    return base === current.version ? 'write' : 'conflict';
  }
  // Same bytes as the current live version: two devices made the same edit; nothing to keep.
  if (!current.deleted && current.hash === change.hash) return 'noop';
  // An edit beats a delete: writing over a tombstone loses nothing, because the deleted
  // content is already kept as a revision.
  if (current.deleted) return 'write';
  return base === current.version ? 'write' : 'conflict';
}
