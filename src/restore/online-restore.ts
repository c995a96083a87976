// `serve --restore-from`: serve at once, restore in the background in priority order, and tell
// every user where their data stands while it runs.
import type { BackupRepository } from '../backup/repository.js';
import { executeRestore, planRestore, probeBackupServer, type RestoreReport, type RestoreScope } from './restore-executor.js';
import { startRestoredEpoch } from './restore-identity.js';
import type { Keepsake } from '../wiring/open-keepsake.js';

export interface OnlineRestoreLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Call before the server listens: bumps the epoch (so devices reconcile instead of trusting old
 * cursors; an empty store also takes the backup's server id) and makes every read answer `restoring` until the plan is known. Returns the restore
 * to start once the server listens.
 */
export async function prepareOnlineRestore(
  keepsake: Keepsake,
  repo: BackupRepository,
  scope: RestoreScope,
  log: OnlineRestoreLog,
): Promise<{ start(): Promise<RestoreReport> }> {
  const tracker = keepsake.sync.restores;
  tracker.expectRestore();
  // An empty store carries on the backup's server (same id, new epoch); reading a few users' newest
  // objects is enough to know it without delaying the start.
  const empty = (await keepsake.store.stats()).users === 0;
  const identity = await startRestoredEpoch(keepsake.store, empty && scope.userIds.length === 0 ? await probeBackupServer(repo) : null);
  keepsake.sync.forgetCaches();
  log.info({ server: identity.id, epoch: identity.epoch, from: repo.target.description }, 'online restore: new epoch; reads answer "restoring" until each category is back');
  return {
    async start() {
      const plan = await planRestore(repo, scope);
      log.info({ users: plan.users.length, items: plan.items, order: scope.priority }, 'online restore: planned');
      const report = await executeRestore(repo, keepsake.store, keepsake.blobs, plan, {
        tracker,
        onTask: (t, state) => {
          if (state === 'quarantined') log.error({ user: t.userId, kind: t.kind }, 'online restore: category quarantined (did not validate)');
        },
      });
      keepsake.sync.forgetCaches();
      log.info(
        { contactsBackMs: report.contactsBackMs, allBackMs: report.allBackMs, itemsPerSecond: Math.round(report.itemsPerSecond), quarantined: report.quarantined.length, items: report.items },
        'online restore: finished',
      );
      return report;
    },
  };
}
