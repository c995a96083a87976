// The server identity after a restore: a new epoch always; the backup's server id when the store was empty.
import type { RecordStore, ServerIdentity } from '../core/ports/record-store.js';
import type { BackupServer } from './restore-planner.js';

/**
 * Starts the epoch a restore's data lives in. A store that holds no user yet is being rebuilt from
 * the backup (a lost database, a new machine): it carries on the server the backup belongs to, with
 * that server's id and an epoch above every epoch the backup recorded and above
 * {@link adoptedEpochFloor}, so devices see their own server in a new epoch and reconcile (upload
 * what the backup lacked) instead of treating it as a stranger. A store with data of its own keeps
 * its id and only gets a new epoch. Call before the restore writes anything (an interrupted
 * restore run again finds users and keeps the adopted id).
 */
export async function startRestoredEpoch(store: RecordStore, backup: BackupServer | null): Promise<ServerIdentity> {
  const empty = (await store.stats()).users === 0;
  if (!empty || !backup) return store.bumpEpoch();
  return store.bumpEpoch({ id: backup.id, aboveEpoch: adoptedEpochFloor(backup.maxEpoch) });
}

/**
 * The epoch a store that adopts a backup's server must go above: the highest the backup recorded,
 * or the time in milliseconds if that is higher. The backup knows only the epochs its objects were
 * shipped under, not every epoch devices saw: a server restored, then lost before it shipped
 * anything (or restored to a point before an earlier restore), would otherwise come back in an
 * epoch its devices already saw, under the same id, and they could not tell it was restored. A
 * store's own bumps (+1) never repeat: it knows its own epoch.
 */
export function adoptedEpochFloor(backupMaxEpoch: number, now = Date.now()): number {
  return Math.max(backupMaxEpoch, Math.floor(now));
}
