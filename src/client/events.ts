// The events a client emits so an app can show "syncing", "restoring", "132 items re-uploaded".
import type { ServerIdentity } from '../protocol/sync-protocol.js';
import type { ConflictCopy, PendingChange } from './replica-store.js';
import type { WireError } from '../protocol/sync-protocol.js';

export type ClientState = 'idle' | 'syncing' | 'reconciling' | 'offline' | 'paused' | 'error';

/** Why the client went into reconcile mode. */
export type ReconcileReason =
  | 'new_server' // a server id this device never synced with
  | 'new_epoch' // the server's data set was restored or replaced
  | 'cursor_expired' // 410 from the server
  | 'cursor_rejected' // 400 bad_cursor: the cursor is ahead of the server (data lost, same epoch)
  | 'digest_mismatch' // a collection digest disagrees with the device after a full pull
  | 'first_contact' // the device holds data but has never synced with this server
  | 'requested'; // the app asked

/** What one reconciliation did. Nothing in it ever deletes a device's data without a newer tombstone. */
export interface HealReport {
  reason: ReconcileReason;
  server: ServerIdentity;
  /** Items the server lacked or held in an older version, queued for upload, by collection. */
  uploaded: Record<string, number>;
  /** Deletions the server had forgotten, sent again. */
  redeleted: number;
  /** Items where the server and device each had a version the other lacked: both kept. */
  conflicts: number;
  /** Items the device deleted because the server held a newer tombstone. */
  deletedLocally: number;
  /** Items the device took from the server (new or newer there). */
  adopted: number;
  /** Conflict copies held by this device that the server had lost, sent again as conflict revisions. */
  copiesResent: number;
  /** Total of `uploaded` and `redeleted`. */
  healed: number;
}

export interface AcknowledgedWrite {
  changeId: string;
  collection: string;
  id: string;
  hash: string;
  deleted: boolean;
  /** `conflict`: the server kept it as revision `revision`, not as current. */
  status: 'applied' | 'duplicate' | 'conflict';
  version: number | null;
  revision?: number;
  server: ServerIdentity;
}

export interface ClientEvents {
  state: { state: ClientState; reason?: string };
  progress: { phase: 'push' | 'pull' | 'reconcile' | 'blobs'; done: number; total: number | null };
  /** The server acknowledged (stored durably) one of this device's changes. */
  acknowledged: AcknowledgedWrite;
  conflict: ConflictCopy;
  rejected: { change: PendingChange; error: WireError };
  /** Emitted after reconciling with a server that was not the data set the device knew. */
  serverChanged: { reason: ReconcileReason; previous: ServerIdentity | null; current: ServerIdentity };
  healed: HealReport;
  /** A pull (or push) would delete more than the guard allows; nothing was deleted. */
  massDeletePaused: { collection: string; deletes: number; live: number; direction: 'pull' | 'push' };
}

type Listener<T> = (event: T) => void;

/** A minimal typed emitter (no Node `events`, so the core runs in a browser). */
export class ClientEmitter {
  private readonly listeners = new Map<keyof ClientEvents, Set<Listener<any>>>();

  on<K extends keyof ClientEvents>(name: K, fn: Listener<ClientEvents[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  emit<K extends keyof ClientEvents>(name: K, event: ClientEvents[K]): void {
    for (const fn of this.listeners.get(name) ?? []) {
      try {
        fn(event);
      } catch {
        // A failing listener must not break a sync.
      }
    }
  }
}
