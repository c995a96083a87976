// Backup inside `keepsake serve`: opens the targets, wraps the store, runs the shipper, reports health.
import { join, resolve } from 'node:path';
import type { Config } from '../config/config-schema.js';
import { KeepsakeError } from '../core/errors.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore } from '../core/ports/record-store.js';
import { isBackupError } from './backup-error.js';
import { openRepositories, readBackupKey, sameFilesystemWarnings } from './open-backup.js';
import type { BackupRepository } from './repository.js';
import { type BackupLog, BackupShipper, type ShipperOptions, type TargetStatus } from './shipper.js';
import { verifyRepository } from './verify.js';
import { watchStore } from './watch-store.js';

/** What /api/v1/status says about backups, for one user. */
export type BackupHealth = {
  configured: boolean;
  message: string;
  durability?: string;
  /** When this user's newest data reached a target (null: not yet, since start-up). */
  lastBackedUpAt?: string | null;
  upToDate?: boolean;
  targets?: Array<{ target: string; state: string; lagSeconds: number }>;
};

export interface ServeBackup {
  repos: BackupRepository[];
  /** Pass to openKeepsake: wraps the store so writes wake the shipper (and wait, with durability=backup). */
  wrapStore(store: RecordStore, blobs: BlobStore): RecordStore;
  /** Warnings to log loudly at start-up (same filesystem as the store). */
  warnings(config: Config, storePath: string | null): Promise<string[]>;
  start(log: BackupLog): Promise<void>;
  stop(): Promise<void>;
  health(userId: string | null): BackupHealth;
  status(): TargetStatus[];
}

/**
 * Opens every `--backup` location (creating repositories on first use; the key is checked, so a
 * wrong key stops the server with a clear `invalid_config` error before anything is written).
 * Returns null when no target is configured.
 */
export async function prepareServeBackup(
  config: Config,
  locations: string[],
  options: Partial<ShipperOptions> = {},
): Promise<ServeBackup | null> {
  if (locations.length === 0) {
    if (config.durability === 'backup') throw new KeepsakeError('invalid_config', '--durability backup needs at least one --backup TARGET');
    return null;
  }
  let repos: BackupRepository[];
  try {
    repos = await openRepositories(locations, readBackupKey(config.backupKeyFile), true);
  } catch (e) {
    if (isBackupError(e)) throw new KeepsakeError('invalid_config', `backup: ${e.message}`, { cause: e });
    throw new KeepsakeError('invalid_config', `backup target unusable: ${(e as Error).message}`, { cause: e });
  }
  let shipper: BackupShipper | null = null;
  let verifyTimer: NodeJS.Timeout | null = null;
  let verifying: Promise<void> | null = null;
  const waitForBackup = config.durability === 'backup';
  /** Background verification: one target after another; results go to the repository, status and /metrics. */
  const verifyAll = async (log: BackupLog) => {
    for (const repo of repos) {
      try {
        const r = await verifyRepository(repo, { mode: 'sample', sample: 5 });
        shipper?.noteVerification(repo.target.description, { at: r.at, ok: r.ok, mode: r.mode });
        if (r.ok) log.info({ target: r.target, objects: r.objectsChecked, users: r.usersRestored, seconds: r.seconds }, 'backup verified');
        else log.error({ target: r.target, problems: r.problems.slice(0, 20), affectedUsers: r.affectedUsers.length }, 'BACKUP VERIFICATION FAILED');
      } catch (e) {
        log.error({ target: repo.target.description, err: (e as Error).message }, 'backup verification could not run');
      }
    }
  };
  return {
    repos,
    wrapStore(store, blobs) {
      shipper = new BackupShipper(store, blobs, repos, options);
      return watchStore(store, shipper, { waitForBackup });
    },
    async warnings(cfg, storePath) {
      const paths = [join(resolve(cfg.data), 'blobs')];
      if (storePath) paths.push(storePath);
      return sameFilesystemWarnings(
        repos.map((r) => r.target),
        paths,
      );
    },
    async start(log) {
      if (!shipper) throw new Error('prepareServeBackup: wrapStore was not used');
      shipper.options.log = log;
      await shipper.start();
      if (config.backupVerifyHours > 0) {
        verifyTimer = setInterval(() => {
          verifying ??= verifyAll(log).finally(() => (verifying = null));
        }, config.backupVerifyHours * 3600 * 1000);
        verifyTimer.unref();
      }
    },
    async stop() {
      if (verifyTimer) clearInterval(verifyTimer);
      await verifying;
      await shipper?.stop();
    },
    health(userId) {
      const targets = shipper?.status() ?? [];
      const failing = targets.filter((t) => t.state === 'failing');
      const user = userId && shipper ? shipper.userStatus(userId) : null;
      const maxLag = Math.max(0, ...targets.map((t) => t.lagSeconds));
      return {
        configured: true,
        durability: config.durability,
        message:
          failing.length === targets.length
            ? `backup is FAILING on every target (${failing[0]?.lastError ?? 'starting'}): changes are kept in the store and will ship when a target is back`
            : failing.length > 0
              ? `${failing.length} of ${targets.length} backup targets failing; others are shipping (lag ${maxLag.toFixed(1)} s)`
              : `continuous backup to ${targets.length} target(s), lag ${maxLag.toFixed(1)} s`,
        lastBackedUpAt: user?.lastBackedUpAt ?? null,
        upToDate: user?.upToDate ?? false,
        targets: targets.map((t) => ({ target: t.target, state: t.state, lagSeconds: t.lagSeconds })),
      };
    },
    status() {
      return shipper?.status() ?? [];
    },
  };
}
