// The device's durable replica: what a ReplicaStore keeps and the contract every adapter meets.
import type { ItemContent, Kind, ServerIdentity, WireError, WireItem } from '../protocol/sync-protocol.js';

/**
 * One item as this device holds it. `content`/`hash`/`deleted` are the device's current view,
 * including edits not yet acknowledged; `version`/`syncedHash` are the last server state the
 * device integrated (in epoch `epoch` of server `serverId`).
 */
export interface LocalItem {
  collection: string;
  id: string;
  /** Absent for tombstones. */
  content?: ItemContent;
  /** Hash of `content`; a tombstone keeps the hash of the content it deleted. */
  hash: string;
  deleted: boolean;
  /** Server version this device last integrated; 0 when the server never acknowledged the item. */
  version: number;
  /** Hash the server held at `version`, or null when never acknowledged. */
  syncedHash: string | null;
  /** Server id and epoch `version` belongs to (versions from another epoch are meaningless). */
  serverId: string | null;
  epoch: number;
  /**
   * Earlier hashes of this item the device held, newest first (bounded). Reconcile uses them to
   * tell a server copy that is *older* than the device's (restored from a backup) from one that
   * is newer (another device's edit).
   */
  history: string[];
}

/** A local edit waiting to be acknowledged. `changeId` makes a retried push safe. */
export interface PendingChange {
  changeId: string;
  /** Order of edits on this device. */
  seq: number;
  collection: string;
  id: string;
  deleted: boolean;
  content?: ItemContent;
  hash: string;
  /** Server version the edit was based on; ignored when `chained`. */
  baseVersion: number | null;
  /** Hash the edit was based on (null: a new item); used to rebase after a server change. */
  baseHash: string | null;
  /** Based on this device's previous pending edit of the same item: base is taken at send time. */
  chained: boolean;
  /**
   * A conflict copy sent again after the server lost it (reconcile): sent with a stale base so the
   * server stores it as a conflict revision beside the current version, never over it.
   */
  keepAsRevision?: boolean;
  /**
   * For a delete: the content it removes. When the device next meets a server that lacks the
   * item (it lost it, or was restored to before it), reconcile sends this content first and the
   * delete after it, so the server's trash holds what was deleted — as it would have.
   */
  deletedContent?: ItemContent;
  createdAt: string;
}

/** A version the server did not take as current, kept on the device so the user can pick it. */
export interface ConflictCopy {
  copyId: string;
  collection: string;
  id: string;
  deleted: boolean;
  content?: ItemContent;
  hash: string;
  /** `conflict`: the item changed elsewhere first; `rejected`: the server refused the content. */
  reason: 'conflict' | 'rejected';
  /** The server's version that won, if any. */
  serverVersion: number | null;
  /** Revision number under which the server also kept this content, if it did. */
  serverRevision: number | null;
  error?: WireError;
  at: string;
}

/** Everything the device knows about the server it syncs with. */
export interface ReplicaMeta {
  server: ServerIdentity | null;
  cursor: string | null;
  /** Collection digests the device and server last agreed on. */
  agreedDigests: Record<string, string>;
  collections: Record<string, { kind: Kind; name: string }>;
  /** Deletions a pull brought that the mass-deletion guard is holding back, by collection. */
  heldDeletes: Record<string, WireItem[]>;
  /** Next `PendingChange.seq`. */
  nextSeq: number;
}

export type ReplicaMutation =
  | { op: 'putItem'; item: LocalItem }
  | { op: 'putPending'; change: PendingChange }
  | { op: 'dropPending'; changeId: string }
  | { op: 'putConflict'; copy: ConflictCopy }
  | { op: 'dropConflict'; copyId: string }
  | { op: 'setMeta'; meta: ReplicaMeta };

export interface ReplicaSnapshot {
  items: LocalItem[];
  pending: PendingChange[];
  conflicts: ConflictCopy[];
  meta: ReplicaMeta | null;
}

/**
 * Durable storage for one device's replica.
 *
 * Contract (every adapter; see test/client/replica-store.test.ts):
 * - `commit` is atomic and durable: when it resolves, every mutation survives a crash or power
 *   loss; when it rejects or the process dies first, none of them is visible after `load`.
 * - Mutations apply in order; `putItem`/`putPending`/`putConflict` replace by key
 *   (collection+id, changeId, copyId); dropping an absent key does nothing.
 * - `load` returns what the committed mutations describe (pending sorted by `seq`).
 * - `putBlob` is idempotent and durable; `getBlob` returns null when the blob is absent.
 */
export interface ReplicaStore {
  load(): Promise<ReplicaSnapshot>;
  commit(mutations: ReplicaMutation[]): Promise<void>;
  putBlob(hash: string, bytes: Uint8Array): Promise<void>;
  getBlob(hash: string): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

export function itemKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

/** Applies mutations to plain maps: shared by the adapters so they agree on meaning. */
export class ReplicaMaps {
  readonly items = new Map<string, LocalItem>();
  readonly pending = new Map<string, PendingChange>();
  readonly conflicts = new Map<string, ConflictCopy>();
  meta: ReplicaMeta | null = null;

  apply(m: ReplicaMutation): void {
    switch (m.op) {
      case 'putItem':
        this.items.set(itemKey(m.item.collection, m.item.id), m.item);
        break;
      case 'putPending':
        this.pending.set(m.change.changeId, m.change);
        break;
      case 'dropPending':
        this.pending.delete(m.changeId);
        break;
      case 'putConflict':
        this.conflicts.set(m.copy.copyId, m.copy);
        break;
      case 'dropConflict':
        this.conflicts.delete(m.copyId);
        break;
      case 'setMeta':
        this.meta = m.meta;
        break;
    }
  }

  snapshot(): ReplicaSnapshot {
    return {
      items: [...this.items.values()],
      pending: [...this.pending.values()].sort((a, b) => a.seq - b.seq),
      conflicts: [...this.conflicts.values()],
      meta: this.meta,
    };
  }
}
