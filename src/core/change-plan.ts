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
  /** Whether the changeId must be remembered (everything except `missing`). */
  rememberChangeId: boolean;
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
    return { outcome: { status: 'missing' }, item: null, revision: null, countDelta: 0, nextDigest: (d) => d, rememberChangeId: false };
  }
  if (decision === 'noop') {
    return {
      outcome: { status: 'applied', item: current! },
      item: null,
      revision: null,
      countDelta: 0,
      nextDigest: (d) => d,
      rememberChangeId: true,
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
      rememberChangeId: true,
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
    rememberChangeId: true,
  };
}
