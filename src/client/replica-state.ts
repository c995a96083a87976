// The client's in-memory view of its replica; every change goes through `mutate`, which commits
// durably to the ReplicaStore before the view changes, one mutation batch at a time.
import type { ServerIdentity } from '../protocol/sync-protocol.js';
import {
  type ConflictCopy,
  itemKey,
  type LocalItem,
  type PendingChange,
  ReplicaMaps,
  type ReplicaMeta,
  type ReplicaMutation,
  type ReplicaSnapshot,
  type ReplicaStore,
} from './replica-store.js';

/** How many earlier hashes of an item a device remembers (see `LocalItem.history`). */
export const HISTORY_LENGTH = 16;

export function emptyMeta(): ReplicaMeta {
  return { server: null, cursor: null, agreedDigests: {}, collections: {}, heldDeletes: {}, nextSeq: 1 };
}

export function sameServer(a: ServerIdentity | null, b: ServerIdentity | null): boolean {
  return a !== null && b !== null && a.id === b.id && a.epoch === b.epoch;
}

/** `history` after the item's current hash `previous` is replaced by `next`. */
export function nextHistory(item: LocalItem | undefined, next: string): string[] {
  if (!item) return [];
  if (item.hash === next) return item.history;
  return [item.hash, ...item.history.filter((h) => h !== item.hash && h !== next)].slice(0, HISTORY_LENGTH);
}

export class ReplicaState {
  private readonly maps = new ReplicaMaps();
  /** Pending changes per item, in edit order. */
  private readonly pendingByItem = new Map<string, PendingChange[]>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Bumped whenever an item of the collection changes, so digests are recomputed only then. */
  private readonly collectionStamps = new Map<string, number>();

  constructor(
    private readonly store: ReplicaStore,
    snapshot: ReplicaSnapshot,
  ) {
    for (const item of snapshot.items) this.maps.apply({ op: 'putItem', item });
    for (const copy of snapshot.conflicts) this.maps.apply({ op: 'putConflict', copy });
    for (const change of snapshot.pending) this.apply({ op: 'putPending', change });
    this.maps.meta = snapshot.meta ?? emptyMeta();
  }

  get meta(): ReplicaMeta {
    return this.maps.meta!;
  }

  item(collection: string, id: string): LocalItem | undefined {
    return this.maps.items.get(itemKey(collection, id));
  }

  items(): IterableIterator<LocalItem> {
    return this.maps.items.values();
  }

  conflicts(): ConflictCopy[] {
    return [...this.maps.conflicts.values()];
  }

  conflict(copyId: string): ConflictCopy | undefined {
    return this.maps.conflicts.get(copyId);
  }

  pendingFor(collection: string, id: string): PendingChange[] {
    return this.pendingByItem.get(itemKey(collection, id)) ?? [];
  }

  /** All pending changes in edit order. */
  pending(): PendingChange[] {
    return [...this.maps.pending.values()].sort((a, b) => a.seq - b.seq);
  }

  get pendingCount(): number {
    return this.maps.pending.size;
  }

  /**
   * Runs `plan` against the current view, commits what it returns durably, then applies it.
   * Calls are serialized, so a plan always sees every earlier mutation (local edits made during
   * a sync never race with the sync's own updates).
   */
  mutate<T = void>(plan: () => { mutations: ReplicaMutation[]; result?: T } | ReplicaMutation[]): Promise<T> {
    const run = this.queue.then(async () => {
      const out = plan();
      const mutations = Array.isArray(out) ? out : out.mutations;
      if (mutations.length) {
        await this.store.commit(mutations);
        for (const m of mutations) this.apply(m);
      }
      return (Array.isArray(out) ? undefined : out.result) as T;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A number that changes whenever an item of `collection` changes. */
  collectionStamp(collection: string): number {
    return this.collectionStamps.get(collection) ?? 0;
  }

  private apply(m: ReplicaMutation): void {
    if (m.op === 'putItem') this.collectionStamps.set(m.item.collection, this.collectionStamp(m.item.collection) + 1);
    if (m.op === 'putPending') {
      const key = itemKey(m.change.collection, m.change.id);
      const list = (this.pendingByItem.get(key) ?? []).filter((p) => p.changeId !== m.change.changeId);
      list.push(m.change);
      list.sort((a, b) => a.seq - b.seq);
      this.pendingByItem.set(key, list);
    } else if (m.op === 'dropPending') {
      const p = this.maps.pending.get(m.changeId);
      if (p) {
        const key = itemKey(p.collection, p.id);
        const list = (this.pendingByItem.get(key) ?? []).filter((x) => x.changeId !== m.changeId);
        if (list.length) this.pendingByItem.set(key, list);
        else this.pendingByItem.delete(key);
      }
    }
    this.maps.apply(m);
  }
}
