// Turns a decision about one change into the exact rows a store must write. Pure, so every
// store adapter applies changes identically and only does the I/O.
import { digestReplace } from './digest.js';
import type { ChangeOutcome, PreparedChange, Revision, StoredItem } from './model.js';
import { decideChange } from './sync-rules.js';

export interface ChangePlan {
  outcome: ChangeOutcome;
  /** The item row to upsert, if any. */
  item: StoredItem | null;
  /** The revision row to insert, if any. */
  revision: Revision | null;
  /** How the collection's live-item count changes. */
  countDelta: number;
  /** Turns the collection's digest before into the digest after. */
  nextDigest(digest: string): string;
}

/**
 * Duplicate detection without a change-id log. A store keeps, on every item row and revision
 * row it writes, the changeId of the change that produced that version: the item row carries
 * the applying change's id, an overwritten or deleted version keeps the id it had as the current
 * row, and a conflict's losing version carries the losing change's id. A change whose changeId
 * is on the item's current row or on one of its kept revisions is a `duplicate`. So a retry is
 * recognised for as long as the version it made is kept (the retention window); after that it is
 * planned again, and the rules still lose nothing (a stale base version is a conflict whose
 * content is kept). A `noop` change writes no row and is not remembered: its retry is another
 * `noop`, answered the same way.
 */
export function revisionChangeId(revision: Revision, change: PreparedChange, currentChangeId: string | null): string | null {
  return revision.reason === 'conflict' ? change.changeId : currentChangeId;
}

/**
 * Plans one change against the current item. `nextSeq` hands out the user's next sequence
 * number; it is called only when a new version or revision is written.
 */
export function planChange(
  current: StoredItem | null,
  change: PreparedChange,
  now: string,
  nextSeq: () => number,
): ChangePlan {
  const decision = decideChange(current, change);
  if (decision === 'missing') {
    return { outcome: { status: 'missing' }, item: null, revision: null, countDelta: 0, nextDigest: (d) => d };
  }
  if (decision === 'noop') {
    return {
      outcome: { status: 'applied', item: current! },
      item: null,
      revision: null,
      countDelta: 0,
      nextDigest: (d) => d,
    };
  }
  if (decision === 'conflict') {
    const seq = nextSeq();
    const revision: Revision = {
      collection: change.collection,
      id: change.id,
      version: seq,
      hash: change.hash ?? current!.hash,
      modified: now,
      deleted: change.deleted,
      content: change.content,
      reason: 'conflict',
      keptAt: now,
    };
    return {
      outcome: { status: 'conflict', item: current!, revision: seq },
      item: null,
      revision,
      countDelta: 0,
      nextDigest: (d) => d,
    };
  }
  const seq = nextSeq();
  const wasLive = current !== null && !current.deleted;
  const item: StoredItem = {
    collection: change.collection,
    id: change.id,
    version: seq,
    // A tombstone keeps the hash of the content it deleted, so a device can tell which version went.
    hash: change.deleted ? current!.hash : change.hash!,
    modified: now,
    deleted: change.deleted,
    content: change.deleted ? null : change.content,
  };
  // Tombstones are kept too when an edit replaces them, so the history can say when the item
  // was absent (point-in-time restore depends on it).
  const revision: Revision | null =
    current === null ? null : { ...current, reason: wasLive && change.deleted ? 'deleted' : 'overwritten', keptAt: now };
  const before = wasLive ? current!.hash : null;
  const after = change.deleted ? null : item.hash;
  return {
    outcome: { status: 'applied', item },
    item,
    revision,
    countDelta: (after ? 1 : 0) - (before ? 1 : 0),
    nextDigest: (d) => digestReplace(d, change.id, before, after),
  };
}
