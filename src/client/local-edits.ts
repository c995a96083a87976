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

/**
 * A delete re-sent to a server that lacks the item although the device had synced it (the server
 * lost it): the deleted content first, as a new change, then the delete under `p`'s change id,
 * chained to it, so the deleted version lands in the server's trash instead of on no server. The
 * delete no longer carries the content: should the server still answer "no such item", it is dropped.
 */
export function contentThenDelete(p: PendingChange, seq: number, contentChangeId: string): [PendingChange, PendingChange] {
  return [
    { ...p, deleted: false, content: p.deletedContent, deletedContent: undefined, changeId: contentChangeId, seq, baseVersion: null, baseHash: null, chained: false },
    { ...p, deletedContent: undefined, seq: seq + 1, baseVersion: null, baseHash: p.hash, chained: true },
  ];
}
