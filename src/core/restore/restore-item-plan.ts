// Decides what restoring one backed-up item does to the store's current row. Pure, so every
// store adapter restores identically (the rule: never overwrite a newer write).
import { digestReplace } from '../digest.js';
import { contentHash } from '../hash.js';
import type { Revision, StoredItem } from '../model.js';
import type { RestoredItem } from '../ports/record-store.js';

export type RestoreItemOutcome = 'inserted' | 'replaced' | 'keptNewer' | 'unchanged';

export interface RestoreItemPlan {
  outcome: RestoreItemOutcome;
  /** Row to upsert as the item's current version, or null to leave the current row. */
  item: StoredItem | null;
  /** Revisions to insert unless one with the same version already exists. */
  revisions: Revision[];
  countDelta: number;
  nextDigest(digest: string): string;
}

function intact(item: StoredItem): boolean {
  return item.deleted || (item.content !== null && contentHash(item.content) === item.hash);
}

/**
 * `nextSeq` hands out the user's next sequence number (only called when a row is written).
 * Restored revisions keep their own numbers (below the restored counter, so below every new write).
 * `hasLiveRevision(hash)` tells whether the store already keeps a revision of this item with those
 * (non-deleted) bytes: a backed-up version kept beside a newer write is then not kept again, so a
 * restore run twice (or resumed) changes nothing the second time.
 */
export function planRestoreItem(
  current: StoredItem | null,
  entry: RestoredItem,
  now: string,
  nextSeq: () => number,
  hasLiveRevision: (hash: string) => boolean,
): RestoreItemPlan {
  const backup = entry.item;
  const same = (d: string) => d;
  if (current !== null && current.hash === backup.hash && current.deleted === backup.deleted && intact(current)) {
    return { outcome: 'unchanged', item: null, revisions: entry.revisions, countDelta: 0, nextDigest: same };
  }
  if (current !== null && intact(current) && current.modified > backup.modified) {
    // A write since the backup: it stays; the backed-up version is kept beside it.
    const kept: Revision[] = backup.deleted || hasLiveRevision(backup.hash) ? [] : [{ ...backup, version: nextSeq(), reason: 'overwritten', keptAt: now }];
    return { outcome: 'keptNewer', item: null, revisions: [...entry.revisions, ...kept], countDelta: 0, nextDigest: same };
  }
  const item: StoredItem = { ...backup, version: nextSeq() };
  const revisions = [...entry.revisions];
  if (current !== null) revisions.push({ ...current, reason: 'overwritten', keptAt: now });
  const before = current !== null && !current.deleted ? current.hash : null;
  const after = backup.deleted ? null : backup.hash;
  return {
    outcome: current === null ? 'inserted' : 'replaced',
    item,
    revisions,
    countDelta: (after ? 1 : 0) - (before ? 1 : 0),
    nextDigest: (d) => digestReplace(d, backup.id, before, after),
  };
}
