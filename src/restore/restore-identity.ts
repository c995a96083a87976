// The server identity after a restore: a new epoch always; the backup's server id when the store was empty.
import type { RecordStore, ServerIdentity } from '../core/ports/record-store.js';
import type { BackupServer } from './restore-planner.js';

/**
 * Starts the epoch a restore's data lives in. A store that holds no user yet is being rebuilt from
 * the backup (a lost database, a new machine): it carries on the server the backup belongs to, with
 * that server's id and an epoch above every epoch the backup recorded, so devices see their own
 * server in a new epoch and reconcile (upload what the backup lacked) instead of treating it as a
 * stranger. A store with data of its own keeps its id and only gets a new epoch. Call before the
 * restore writes anything (an interrupted restore run again finds users and keeps the adopted id).
 */
export async function startRestoredEpoch(store: RecordStore, backup: BackupServer | null): Promise<ServerIdentity> {
  const empty = (await store.stats()).users === 0;
  if (!empty || !backup) return store.bumpEpoch();
  return store.bumpEpoch({ id: backup.id, aboveEpoch: backup.maxEpoch });
}
