// `keepsake backup status|verify|checkpoint|list|prune`: inspect and maintain backup repositories.
import { Command, Option } from 'commander';
import type { ConfigKey } from '../../config/config-schema.js';
import { isBackupError } from '../../backup/backup-error.js';
import { repositoryStatus, type RestorePoint, restorePoints } from '../../backup/backup-status.js';
import { type CheckpointReport, writeCheckpoint } from '../../backup/checkpoint.js';
import { resolveBackupUser } from '../../backup/name-index.js';
import { backupLocations, openRepositories, readBackupKey } from '../../backup/open-backup.js';
import { parseDuration, prune, type PruneReport } from '../../backup/prune.js';
import type { BackupRepository } from '../../backup/repository.js';
import { verifyRepository, type VerifyReport } from '../../backup/verify.js';
import { action, addConfigOptions, configFrom, print, STORE_KEYS, withKeepsake } from '../options.js';
import { bar, progressLine } from '../progress.js';

const KEYS: ConfigKey[] = [...STORE_KEYS, 'backupKeyFile'];
type Opts = Record<string, unknown> & { backup?: string[]; json?: boolean };

/** Options every backup subcommand takes. */
function withBackupOptions(cmd: Command): Command {
  return addConfigOptions(cmd, KEYS)
    .addOption(new Option('--backup <TARGET>', 'backup target: file:///path or a directory (repeatable) [env KEEPSAKE_BACKUP, comma-separated]').argParser(collect))
    .option('--json', 'print JSON');
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Opens the repositories named by the options; a backup error exits 2 with its code. */
async function repositories(opts: Opts): Promise<BackupRepository[]> {
  const locations = backupLocations(opts.backup);
  if (locations.length === 0) throw new Error('no backup target: give --backup TARGET (or set KEEPSAKE_BACKUP)');
  const config = configFrom(opts, KEYS);
  return openRepositories(locations, readBackupKey(config.backupKeyFile), false);
}

/** Like `action`, but backup errors print `error [code]: message` (naming the object) and exit 2. */
function backupAction<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return action(async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isBackupError(e)) {
        process.stderr.write(`error [${e.code}]: ${e.message}\n`);
        process.exit(2);
      }
      throw e;
    }
  });
}

export function backupCommand(): Command {
  const backup = new Command('backup').description('inspect, verify, checkpoint and prune backup repositories');

  withBackupOptions(backup.command('status').description('per target: progress, lag, size, snapshots, checkpoints, last verification; exit 1 if the last verification failed'))
    .action(
      backupAction(async (opts: Opts) => {
        const repos = await repositories(opts);
        const statuses = await withKeepsake(opts, async (k) => Promise.all(repos.map((r) => repositoryStatus(k.store, r))));
        print(opts.json, statuses, () =>
          statuses
            .map((s) => {
              const v = s.lastVerification;
              return [
                `${s.target}${s.encrypted ? ' (encrypted)' : ''}`,
                `  users ${s.users}, ${s.usersBehind} behind; shipped ${s.shippedSeqTotal} of ${s.storeSeqTotal} changes; lag ${s.lagSeconds.toFixed(1)} s`,
                `  ${s.objects} objects, ${(s.bytes / 1024 / 1024).toFixed(1)} MiB; ${s.segments} segments, ${s.snapshots} snapshots (newest ${s.newestSnapshot ?? 'none'})`,
                `  checkpoints: ${s.checkpoints.length === 0 ? 'none' : s.checkpoints.map((c) => `${c.label} (${c.takenAt})`).join(', ')}`,
                `  last verification: ${v ? `${v.ok ? 'OK' : `FAILED (${v.problems} problems)`} ${v.mode} at ${v.at}, ${Math.round(v.ageSeconds)} s ago, ${v.usersRestored} users restored` : 'never'}`,
              ].join('\n');
            })
            .join('\n'),
        );
        if (statuses.some((s) => s.lastVerification?.ok === false)) process.exitCode = 1;
      }),
    );

  withBackupOptions(backup.command('verify').description('check every object, every reference, and restore sampled users; names every bad object and user; exit 1 on damage'))
    .option('--full', 'read every object including photo bytes, restore every user and check every snapshot')
    .option('--sample <N>', 'users to restore besides those changed since the last verification', '5')
    .action(
      backupAction(async (opts: Opts & { full?: boolean; sample: string }) => {
        const repos = await repositories(opts);
        const line = progressLine();
        const reports: VerifyReport[] = [];
        for (const repo of repos) {
          reports.push(
            await verifyRepository(repo, {
              mode: opts.full ? 'full' : 'sample',
              sample: Number(opts.sample),
              onProgress: (p) => line.update(`verify ${repo.target.description}: ${p.phase} ${bar(p.total ? p.done / p.total : 1)} ${p.done}/${p.total}`),
            }),
          );
        }
        line.done();
        print(opts.json, reports, () =>
          reports
            .map((r) => {
              const head = `${r.target}: ${r.ok ? 'OK' : 'DAMAGED'} — ${r.objectsChecked} objects (${(r.bytesChecked / 1024 / 1024).toFixed(1)} MiB) checked, ${r.usersRestored} of ${r.users} users restored in ${r.seconds.toFixed(1)} s`;
              const lines = r.problems.map((p) => `  ${p.object ? `object ${p.object}` : 'repository'}${p.users.length ? ` (users ${p.users.join(', ')})` : ''}: ${p.problem}`);
              const affected = r.affectedUsers.length ? [`  affected users: ${r.affectedUsers.join(', ')}`] : [];
              return [head, ...lines, ...affected].join('\n');
            })
            .join('\n'),
        );
        if (reports.some((r) => !r.ok)) process.exitCode = 1;
      }),
    );

  withBackupOptions(backup.command('checkpoint').description('snapshot every user now and verify it before returning (run before an upgrade)'))
    .requiredOption('--label <TEXT>', 'what the checkpoint is for, e.g. "before upgrade to 0.2"')
    .action(
      backupAction(async (opts: Opts & { label: string }) => {
        const repos = await repositories(opts);
        const line = progressLine();
        const reports = await withKeepsake(opts, async (k) => {
          const out: CheckpointReport[] = [];
          for (const repo of repos) {
            out.push(await writeCheckpoint(k.store, k.blobs, repo, opts.label, (phase, d, t) => line.update(`checkpoint ${phase} ${bar(t ? d / t : 1)} ${d}/${t}`)));
          }
          return out;
        });
        line.done();
        print(opts.json, reports, () =>
          reports
            .map((r) =>
              r.name
                ? `${r.target}: checkpoint "${r.label}" of ${r.users} users written and verified as ${r.name}`
                : `${r.target}: checkpoint NOT written, verification failed:\n${r.problems.map((p) => `  user ${p.user} object ${p.object}: ${p.problem}`).join('\n')}`,
            )
            .join('\n'),
        );
        if (reports.some((r) => !r.name)) process.exitCode = 1;
      }),
    );

  withBackupOptions(backup.command('list').description('the points in time that can be restored (per user with --user)'))
    .option('--user <NAME>', 'a user name (or id)')
    .action(
      backupAction(async (opts: Opts & { user?: string }) => {
        const repos = await repositories(opts);
        if (opts.user) {
          // Resolved from each backup alone: after a disaster there may be no store to ask.
          const name = opts.user;
          const lists: Array<{ target: string; user: string; points: RestorePoint[] }> = [];
          for (const r of repos) {
            const userId = await resolveBackupUser(r, name);
            lists.push({ target: r.target.description, user: userId, points: await restorePoints(r, userId) });
          }
          print(opts.json, lists, () =>
            lists
              .map((l) => `${l.target} — user ${name} (${l.user}):\n${l.points.map((p) => `  seq ${p.seq}  ${p.at}  ${p.kind}`).join('\n') || '  nothing backed up'}`)
              .join('\n'),
          );
          return;
        }
        const statuses = await withKeepsake(opts, async (k) => Promise.all(repos.map((r) => repositoryStatus(k.store, r))));
        print(opts.json, statuses.map((s) => ({ target: s.target, users: s.users, snapshots: s.snapshots, checkpoints: s.checkpoints })), () =>
          statuses
            .map((s) => `${s.target}: ${s.users} users restorable to any segment end (use --user); checkpoints:\n${s.checkpoints.map((c) => `  ${c.takenAt}  ${c.label}  ${c.name}`).join('\n') || '  none'}`)
            .join('\n'),
        );
      }),
    );

  withBackupOptions(backup.command('prune').description('two-phase removal of what no kept restore point needs (mark now, delete after the grace period)'))
    .requiredOption('--keep-within <DURATION>', 'keep every restore point this recent, e.g. 30d')
    .option('--keep-daily <N>', 'also keep the newest snapshot of each of the last N days', '0')
    .option('--grace <DURATION>', 'how long marked objects wait before they are deleted', '7d')
    .option('--dry-run', 'show what would be marked and swept; change nothing')
    .action(
      backupAction(async (opts: Opts & { keepWithin: string; keepDaily: string; grace: string; dryRun?: boolean }) => {
        const repos = await repositories(opts);
        const reports: PruneReport[] = [];
        for (const repo of repos) {
          reports.push(
            await prune(repo, {
              keepWithinMs: parseDuration(opts.keepWithin),
              keepDaily: Number(opts.keepDaily),
              graceMs: parseDuration(opts.grace),
              dryRun: opts.dryRun === true,
            }),
          );
        }
        print(opts.json, reports, () =>
          reports
            .map((r) => `${r.target}: marked ${r.marked} objects (mark ${r.markName ?? 'none'}), swept ${r.deleted} objects from ${r.sweptMarks} expired marks${r.dryRun ? ' (dry run)' : ''}`)
            .join('\n'),
        );
      }),
    );

  return backup;
}
