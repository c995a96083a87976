// keepsake/client: the device library. Devices are replicas, not caches (DESIGN.md invariant 6).
export { KeepsakeClient, type ClientOptions, type SyncReport } from './keepsake-client.js';
export type { ClientEvents, ClientState, HealReport, ReconcileReason, AcknowledgedWrite } from './events.js';
export { SyncError, type RetryPolicy } from './http-transport.js';
export { collectionDigest, contentHash, bytesHash, canonicalBytes, webCryptoSha256, EMPTY_DIGEST, type Sha256 } from './hashing.js';
export type { ReplicaStore, ReplicaMutation, ReplicaSnapshot, ReplicaMeta, LocalItem, PendingChange, ConflictCopy } from './replica-store.js';
export { MemoryReplicaStore } from './stores/memory-replica-store.js';
export { reconcileVerdict, type ItemVerdict } from './reconcile.js';
export type { MassDeleteGuard } from './sync-context.js';

/**
 * Opens the Node file adapter (fsynced append-only log in `dir`). Imported lazily so the rest of
 * the library loads in a browser, where node:fs does not exist.
 */
export async function openFileReplicaStore(dir: string, options?: { compactAfterLines?: number }) {
  const { FileReplicaStore } = await import('./stores/file-replica-store.js');
  return FileReplicaStore.open(dir, options);
}
