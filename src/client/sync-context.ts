// What the sync steps (push, pull, reconcile) share: the replica, the transport and the options.
import type { ServerIdentity } from '../protocol/sync-protocol.js';
import type { ClientEmitter } from './events.js';
import type { Sha256 } from './hashing.js';
import type { HttpTransport } from './http-transport.js';
import type { ReplicaState } from './replica-state.js';
import type { ReplicaStore } from './replica-store.js';

/** The client-side mass-deletion guard: a pull deleting more than `share` of a collection holding at least `minItems` live items pauses. */
export interface MassDeleteGuard {
  share: number;
  minItems: number;
}

export interface SyncContext {
  state: ReplicaState;
  store: ReplicaStore;
  transport: HttpTransport;
  events: ClientEmitter;
  sha256: Sha256;
  guard: MassDeleteGuard;
  /** Download photo bytes on pull, so the device can re-upload them if the server loses them. */
  fetchBlobs: boolean;
  /** Changes per push request (≤ MAX_BATCH). */
  pushBatch: number;
  /** Blobs known to be on the server, keyed by `<server id>.<epoch>:<hash>`. */
  uploadedBlobs: Set<string>;
  newId(): string;
  now(): string;
}

export function blobKey(server: ServerIdentity | null, hash: string): string {
  return `${server?.id ?? '?'}.${server?.epoch ?? 0}:${hash}`;
}

/** Raised inside a sync when the server turns out to be another data set than the device knew. */
export class ServerChanged extends Error {
  constructor(
    readonly reason: 'new_server' | 'new_epoch' | 'cursor_expired' | 'cursor_rejected',
    readonly current: ServerIdentity | null,
  ) {
    super(`server changed: ${reason}`);
  }
}
