// The replica mutations a local edit makes: the pending change it queues and the sequence bump.
import type { ReplicaState } from './replica-state.js';
import type { LocalItem, PendingChange } from './replica-store.js';

export const randomId = (): string => globalThis.crypto.randomUUID();

/**
 * The pending change for an edit of `item` (a delete when `deleted`), based on `old` as last
 * synced; `chained` when earlier edits of the same item are still pending. `offset` numbers
 * several changes queued in one mutation.
 */
export function pendingMutation(state: ReplicaState, item: LocalItem, deleted: boolean, old: LocalItem | undefined, chained: boolean, offset = 0) {
  const change: PendingChange = {
    changeId: randomId(),
    seq: state.meta.nextSeq + offset,
    collection: item.collection,
    id: item.id,
    deleted,
    ...(deleted ? {} : { content: item.content }),
    ...(deleted && old && !old.deleted && old.content !== undefined ? { deletedContent: old.content } : {}),
    hash: item.hash,
    baseVersion: old && old.version > 0 ? old.version : null,
    baseHash: old?.syncedHash ?? null,
    chained,
    createdAt: new Date().toISOString(),
  };
  return { op: 'putPending' as const, change };
}

/** Advances the device's change sequence by one. */
export function bumpSeq(state: ReplicaState) {
  return { op: 'setMeta' as const, meta: { ...state.meta, nextSeq: state.meta.nextSeq + 1 } };
}
