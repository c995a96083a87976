// Backup inside `keepsake serve`: opens the targets, wraps the store, runs the shipper, reports health.
import { join, resolve } from 'node:path';
import type { Config } from '../config/config-schema.js';
import { KeepsakeError } from '../core/errors.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore } from '../core/ports/record-store.js';
import { isBackupError } from './backup-error.js';
import { describeLocation, openTarget, readBackupKey, sameFilesystemWarnings } from './open-backup.js';
import { type BackupRepository, openRepository } from './repository.js';
import { type RollingStatus, RollingVerifier } from './rolling-verify.js';
import { type BackupLog, BackupShipper, type PendingTarget, type ShipperOptions, type TargetStatus } from './shipper.js';
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
  /** Repositories opened at start-up (a target unreachable then is opened later by the shipper). */
  repos: BackupRepository[];
  /** Targets that could not be reached at start-up, with why; the server serves and retries them. */
  unreachable: Array<{ target: string; error: string }>;
  /** Pass to openKeepsake: wraps the store so writes wake the shipper (and wait, with durability=backup). */
  wrapStore(store: RecordStore, blobs: BlobStore): RecordStore;
  /** Warnings to log loudly at start-up (same filesystem as the store). */
  warnings(config: Config, storePath: string | null): Promise<string[]>;
  start(log: BackupLog): Promise<void>;
  stop(): Promise<void>;
  health(userId: string | null): BackupHealth;
  status(): Array<TargetStatus & { rolling?: RollingStatus }>;
}

/** True for an operating-system error (missing directory, permission, I/O, network): the target may come back. */
function isUnreachable(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return !isBackupError(e) && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/**
 * Opens every `--backup` location (creating repositories on first use; the key is checked, so a
 * wrong key stops the server with a clear `invalid_config` error before anything is written). A
 * target that is unreachable at start-up (missing or unmounted directory, permission denied, I/O
 * error) does not stop the server: it is reported as failing and the shipper retries it with
 * backoff, then catches up. Returns null when no target is configured.
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
  const repos: BackupRepository[] = [];
  const targets: Array<BackupRepository | PendingTarget> = [];
  const unreachable: Array<{ target: string; error: string }> = [];
  try {
    const key = readBackupKey(config.backupKeyFile);
    for (const location of locations) {
      const open = async () => openRepository(await openTarget(location), { key });
      try {
        const repo = await open();
        repos.push(repo);
        targets.push(repo);
      } catch (e) {
        if (!isUnreachable(e)) throw e;
        const description = describeLocation(location);
        const error = (e as Error).message;
        unreachable.push({ target: description, error });
        targets.push({ description, open, error });
      }
    }
  } catch (e) {
    if (isBackupError(e)) throw new KeepsakeError('invalid_config', `backup: ${e.message}`, { cause: e });
    throw new KeepsakeError('invalid_config', `backup target unusable: ${(e as Error).message}`, { cause: e });
  }
  let shipper: BackupShipper | null = null;
  let verifyTimer: NodeJS.Timeout | null = null;
  let verifying: Promise<void> | null = null;
  let rollingTimer: NodeJS.Timeout | null = null;
  let rollingRun: Promise<void> | null = null;
  const rolling = new Map<string, RollingVerifier>();
  const waitForBackup = config.durability === 'backup';
  /** Background verification: one target after another; results go to the repository, status and /metrics. */
  const verifyAll = async (log: BackupLog) => {
    for (const repo of shipper?.repositories() ?? repos) {
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
  /** One slice of the rolling re-read of every object, on every target that is open. */
  const rollAll = async (log: BackupLog) => {
    for (const repo of shipper?.repositories() ?? []) {
      const d = repo.target.description;
      let r = rolling.get(d);
      if (!r) rolling.set(d, (r = new RollingVerifier(repo, { ...rollingPeriod(config), log, now: () => Date.now() })));
      try {
        await r.tick();
      } catch (e) {
        log.warn({ target: d, err: (e as Error).message }, 'rolling backup verification could not read the target; will retry');
      }
    }
  };
  return {
    repos,
    unreachable,
    wrapStore(store, blobs) {
      // With durability=backup a write's answer waits for its shipment: ship at once, no interval.
      shipper = new BackupShipper(store, blobs, targets, { ...(waitForBackup ? { minPassIntervalMs: 0 } : {}), ...options });
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
      for (const u of unreachable) {
        log.error({ target: u.target, err: u.error }, 'BACKUP TARGET UNREACHABLE at start-up: serving anyway; changes stay in the store and ship once it is back (retrying with backoff)');
      }
      await shipper.start();
      const period = rollingPeriod(config);
      if (period.periodMs > 0) {
        rollingTimer = setInterval(() => {
          rollingRun ??= rollAll(log).finally(() => (rollingRun = null));
        }, period.tickMs);
        rollingTimer.unref();
      }
      if (config.backupVerifyHours > 0) {
        verifyTimer = setInterval(() => {
          verifying ??= verifyAll(log).finally(() => (verifying = null));
        }, config.backupVerifyHours * 3600 * 1000);
        verifyTimer.unref();
      }
    },
    async stop() {
      if (verifyTimer) clearInterval(verifyTimer);
      if (rollingTimer) clearInterval(rollingTimer);
      await verifying;
      await rollingRun;
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
      return (shipper?.status() ?? []).map((t) => {
        const r = rolling.get(t.target);
        return r ? { ...t, rolling: { ...r.status, problems: [...r.status.problems] } } : t;
      });
    },
  };
}

/** Rolling verification's period (`--backup-verify-all-days`) and tick: a slice every 10 minutes at most. */
function rollingPeriod(config: Config): { periodMs: number; tickMs: number } {
  const periodMs = config.backupVerifyAllDays * 86_400_000;
  return { periodMs, tickMs: Math.max(1000, Math.min(10 * 60_000, Math.floor(periodMs / 1000))) };
}
