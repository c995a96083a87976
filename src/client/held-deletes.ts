// Deletions the client-side mass-deletion guard held back: confirming or refusing them.
import { pendingMutation } from './local-edits.js';
import { adoptServerItem } from './push.js';
import type { ReplicaState } from './replica-state.js';

/** Applies the deletions the guard held back for `collection` (the user confirmed them). */
export function confirmHeldDeletes(state: ReplicaState, collection: string): Promise<number> {
  return state.mutate(() => {
    const held = state.meta.heldDeletes[collection] ?? [];
    const server = state.meta.server!;
    const mutations = held
      .filter((w) => state.pendingFor(w.collection, w.id).length === 0 && state.item(w.collection, w.id)?.hash === w.hash)
      .map((w) => ({ op: 'putItem' as const, item: adoptServerItem(state.item(w.collection, w.id), w, server) }));
    const heldDeletes = { ...state.meta.heldDeletes };
    delete heldDeletes[collection];
    return { mutations: [...mutations, { op: 'setMeta', meta: { ...state.meta, heldDeletes } }], result: mutations.length };
  });
}

/** Refuses held deletions: the device's items are uploaded again (an edit wins over a delete). */
export async function rejectHeldDeletes(state: ReplicaState, collection: string): Promise<number> {
  const held = state.meta.heldDeletes[collection] ?? [];
  await state.mutate(() => {
    const heldDeletes = { ...state.meta.heldDeletes };
    delete heldDeletes[collection];
    const mutations = [];
    let n = 0;
    for (const w of held) {
      const l = state.item(w.collection, w.id);
      if (!l || l.deleted || state.pendingFor(w.collection, w.id).length) continue;
      const item = { ...l, version: w.version, syncedHash: w.hash };
      mutations.push({ op: 'putItem' as const, item }, pendingMutation(state, item, false, item, false, n++));
    }
    return [...mutations, { op: 'setMeta' as const, meta: { ...state.meta, heldDeletes, nextSeq: state.meta.nextSeq + n } }];
  });
  return held.length;
}
