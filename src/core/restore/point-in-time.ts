// Plans bringing a collection back to its state at a past time, from the item history the store
// keeps (current versions, revisions and tombstones). Pure: the caller applies the plan.
import type { Revision, StoredItem } from '../model.js';

/** One item's full known history: the current row and its kept revisions. */
export interface ItemHistory {
  current: StoredItem;
  revisions: Revision[];
}

/** What must change for one item to look as it did at the target time. */
export type PointInTimeAction =
  | { action: 'write'; id: string; content: string; hash: string; baseVersion: number }
  | { action: 'delete'; id: string; baseVersion: number };

/**
 * The state of an item at `at`: the version with the highest sequence number among those
 * committed at or before `at`, or null if the item did not exist yet. Conflict revisions are
 * losing edits that were never the item's state, so they do not count.
 */
export function stateAt(history: ItemHistory, at: string): StoredItem | null {
  let best: StoredItem | null = null;
  const versions: StoredItem[] = [history.current, ...history.revisions.filter((r) => r.reason !== 'conflict')];
  for (const v of versions) {
    if (v.modified <= at && (best === null || v.version > best.version)) best = v;
  }
  return best;
}

/**
 * Actions that make the live items equal the state at `at`: items changed since are written
 * back with their old content, items created since are deleted, items deleted since come back.
 * Every action is based on the current version, so what it replaces becomes a revision and a
 * write that lands in between turns into a conflict rather than being overwritten.
 */
export function planPointInTime(histories: Iterable<ItemHistory>, at: string): PointInTimeAction[] {
  const actions: PointInTimeAction[] = [];
  for (const h of histories) {
    const then = stateAt(h, at);
    const now = h.current;
    const liveThen = then !== null && !then.deleted && then.content !== null;
    if (!liveThen) {
      if (!now.deleted) actions.push({ action: 'delete', id: now.id, baseVersion: now.version });
      continue;
    }
    if (!now.deleted && now.hash === then.hash) continue;
    actions.push({ action: 'write', id: now.id, content: then.content!, hash: then.hash, baseVersion: now.version });
  }
  return actions;
}
