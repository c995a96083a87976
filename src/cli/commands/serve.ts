// `keepsake serve`: run the HTTP server until SIGINT/SIGTERM, then finish in-flight writes and stop.
import { Command, Option } from 'commander';
import { backupLocations } from '../../backup/open-backup.js'; // backups (issue 3)
import { prepareServeBackup } from '../../backup/serve-backup.js'; // backups (issue 3)
import { CONFIG_SCHEMA, type ConfigKey } from '../../config/config-schema.js';
import { buildHttpServer } from '../../http/server.js';
import { openRepositories, readBackupKey } from '../../backup/open-backup.js'; // online restore (issue 4)
import { parsePriority } from '../../core/restore/restore-plan.js'; // online restore (issue 4)
import { KINDS } from '../../core/kinds.js'; // online restore (issue 4)
import { prepareOnlineRestore } from '../../restore/online-restore.js'; // online restore (issue 4)
import { openKeepsake } from '../../wiring/open-keepsake.js';
import { BLOB_SWEEP_GRACE_MS, sweepBlobs } from '../../core/accounts/blob-sweep.js';
import { action, addConfigOptions, configFrom } from '../options.js';

const SERVE_KEYS = Object.keys(CONFIG_SCHEMA) as ConfigKey[];
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export function serveCommand(): Command {
  return addConfigOptions(new Command('serve').description('serve the sync API'), SERVE_KEYS)
    .addOption(
      new Option('--backup <TARGET>', 'ship every change to this backup target: file:///path or a directory (repeatable) [env KEEPSAKE_BACKUP, comma-separated]').argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .option('--restore-from <TARGET>', 'serve at once and restore every user from this backup in the background (online restore)')
    .option('--restore-priority <LIST>', 'order of kinds for --restore-from (default contacts,calendar,notes,tasks,photos,scores)')
    .action(
    action(async (opts: Record<string, unknown>) => {
      const config = configFrom(opts, SERVE_KEYS);
      const backup = await prepareServeBackup(config, backupLocations(opts.backup as string[] | undefined)); // backups (issue 3)
      const keepsake = await openKeepsake(config, undefined, backup ? { wrapStore: backup.wrapStore } : {});
      const app = await buildHttpServer(keepsake, {
        logger: { level: config.logLevel },
        ...(backup ? { health: (userId: string) => ({ backup: backup.health(userId) }), backupStatus: () => backup.status() } : {}),
      });
      const log = app.log;
      // Online restore (issue 4): epoch bumped and reads held before the server listens; the restore runs after.
      const online =
        typeof opts.restoreFrom === 'string'
          ? await prepareOnlineRestore(
              keepsake,
              (await openRepositories([opts.restoreFrom], readBackupKey(config.backupKeyFile), false))[0],
              { userIds: [], categories: [...KINDS], priority: parsePriority(opts.restorePriority as string | undefined) },
              log,
            )
          : null;
      const identity = await keepsake.store.identity();
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      log.info({ store: keepsake.store.description, blobs: keepsake.blobs.description, server: identity.id, epoch: identity.epoch }, 'store opened');
      if (backup) {
        // Backups (issue 3): loud warning when a target shares the store's filesystem; then start shipping.
        const storePath = 'path' in keepsake.store ? String((keepsake.store as { path: unknown }).path) : null;
        for (const w of await backup.warnings(config, storePath)) log.warn(`WARNING: ${w}`);
        await backup.start(log);
        log.info({ targets: backup.repos.map((r) => r.target.description), durability: config.durability }, 'continuous backup started');
      } else {
        log.warn('no backup target is configured: the data exists only in this store (see the README, "Backups")');
      }
      // One plain line on stdout so scripts and tests can find the address.
      process.stdout.write(`keepsake listening on http://${config.host}:${port}\n`);
      online?.start().catch((err) => log.error({ err }, 'online restore failed; categories not back keep answering "restoring"')); // issue 4

      const retentionMs = config.retentionDays * 24 * 3600 * 1000;
      const prune = async () => {
        try {
          const before = new Date(Date.now() - retentionMs).toISOString();
          const n = await keepsake.store.pruneRevisions(before);
          if (n > 0) log.info({ revisions: n }, 'pruned revisions past the retention window');
          const purged = await keepsake.accounts.purgeDeletedAccounts(before);
          if (purged.length > 0) {
            log.info({ users: purged }, 'purged accounts deleted longer ago than the retention window');
            // Their photo files go too, unless another account refers to the same bytes.
            const swept = await sweepBlobs(keepsake.store, keepsake.blobs, Date.now() - BLOB_SWEEP_GRACE_MS);
            log.info({ checked: swept.checked, removed: swept.removed.length }, 'removed photo files no account refers to');
          }
        } catch (err) {
          log.error({ err }, 'pruning past the retention window failed');
        }
      };
      const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      pruneTimer.unref();
      void prune();

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down: finishing in-flight requests');
        clearInterval(pruneTimer);
        await app.close();
        await backup?.stop();
        await keepsake.close();
        log.info('stopped cleanly');
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    }),
  );
}
