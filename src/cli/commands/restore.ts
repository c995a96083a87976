// `keepsake restore`: bring users back from a backup, per user and category, to a point in time.
import { Command, Option } from 'commander';
import type { ConfigKey } from '../../config/config-schema.js';
import { isBackupError } from '../../backup/backup-error.js';
import { backupHoldsUser, resolveBackupUser } from '../../backup/name-index.js';
import { openRepositories, readBackupKey } from '../../backup/open-backup.js';
import type { BackupRepository } from '../../backup/repository.js';
import { fail } from '../../core/errors.js';
import { parseCategories, parsePriority } from '../../core/restore/restore-plan.js';
import { RestoreTracker } from '../../core/restore/restore-tracker.js';
import { systemClock } from '../../core/ports/clock.js';
import { scrub } from '../../integrity/scrub.js';
import type { ServerIdentity } from '../../core/ports/record-store.js';
import { canRestoreInBulk, restoreAllInBulk } from '../../restore/bulk-restore.js';
import { DEFAULT_RESTORE_CONCURRENCY, executeRestore, planRestore, type RestoreReport, type RestoreScope } from '../../restore/restore-executor.js';
import { estimateSeconds, photoBytes } from '../../restore/plan-estimate.js';
import { startRestoredEpoch } from '../../restore/restore-identity.js';
import type { Keepsake } from '../../wiring/open-keepsake.js';
import { action, addConfigOptions, configFrom, print, STORE_KEYS, withKeepsake } from '../options.js';
import { bar, progressLine } from '../progress.js';

const KEYS: ConfigKey[] = [...STORE_KEYS, 'backupKeyFile'];
type Opts = Record<string, unknown> & { from?: string; user?: string[]; all?: boolean; affected?: boolean; plan?: boolean; json?: boolean };

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Turns `--user` names (or ids) into the backup's user ids: the store's account of that name when
 * the backup holds it, else the backup's own name index (the store may be empty: a lost database),
 * else an id the backup holds. A user the backup does not know fails `user_not_found` (exit 2)
 * instead of restoring nothing.
 */
async function userIds(k: Keepsake, opts: Opts, repo: BackupRepository): Promise<string[]> {
  if (opts.all) return [];
  if (opts.affected) {
    const report = await scrub(k.store, k.blobs);
    const names = [...new Set(report.problems.map((p) => p.user))];
    const ids = [];
    for (const n of names) ids.push((await k.store.findUserByName(n))?.id ?? n);
    if (ids.length === 0) fail('invalid_request', 'scrub found no damaged user: nothing to restore');
    return ids;
  }
  const users = opts.user ?? [];
  if (users.length === 0) fail('invalid_request', 'say what to restore: --all, --user NAME (repeatable) or --affected');
  const ids = [];
  for (const u of users) {
    const inStore = (await k.store.findUserByName(u))?.id;
    ids.push(inStore && (await backupHoldsUser(repo, inStore)) ? inStore : await resolveBackupUser(repo, u));
  }
  return ids;
}

export function restoreCommand(): Command {
  const cmd = addConfigOptions(new Command('restore').description('restore users from a backup into the store (per user, per category, to a point in time)'), KEYS)
    .option('--from <TARGET>', 'backup target to restore from: file:///path or a directory')
    .option('--all', 'every user in the backup')
    .addOption(new Option('--user <NAME>', 'a user to restore (repeatable)').argParser(collect))
    .option('--affected', 'the users `keepsake scrub` finds damaged in the store')
    .option('--category <LIST>', 'only these kinds, e.g. contacts,calendar (default: all)')
    .option('--at <TIME>', 'restore the state at this ISO time (default: the newest)')
    .option('--priority <LIST>', 'order of kinds, default contacts,calendar,notes,tasks,photos,scores')
    .option('--concurrency <N>', 'users restored at once within a kind', String(DEFAULT_RESTORE_CONCURRENCY))
    .option('--plan', 'print what would be restored, how much, and an estimate; change nothing')
    .option('--json', 'print JSON')
    .action(
      action(async (opts: Opts) => {
        try {
          await runRestore(opts);
        } catch (e) {
          if (isBackupError(e)) {
            process.stderr.write(`error [${e.code}]: ${e.message}\n`);
            process.exit(2);
          }
          throw e;
        }
      }),
    );

  cmd
    .command('status')
    .description('progress of an online restore on a running server (per category, throughput, ETA)')
    .requiredOption('--server <URL>', 'server address, e.g. http://127.0.0.1:7373')
    .requiredOption('--token <TOKEN>', 'an administrator device token [env KEEPSAKE_ADMIN_TOKEN]', process.env.KEEPSAKE_ADMIN_TOKEN)
    .option('--json', 'print JSON')
    .action(
      action(async (opts: { server: string; token: string; json?: boolean }) => {
        const res = await fetch(`${opts.server.replace(/\/$/, '')}/api/v1/admin/restore`, { headers: { authorization: `Bearer ${opts.token}` } });
        const body = (await res.json()) as any;
        if (!res.ok) fail('unavailable', `server answered ${res.status}: ${body?.error?.message ?? 'unknown error'}`);
        print(opts.json, body, () =>
          [
            `restore ${body.running ? 'running' : body.startedAt ? 'finished' : 'not started'}; ${Math.round(body.itemsPerSecond)} items/s; ETA ${body.etaSeconds === null ? '?' : Math.ceil(body.etaSeconds) + ' s'}`,
            ...body.categories.map(
              (c: any) => `  ${c.kind.padEnd(9)} ${bar(c.items ? c.done / c.items : 1)} ${c.done}/${c.items} items; users ${Object.entries(c.users).filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(', ') || 'none'}`,
            ),
          ].join('\n'),
        );
      }),
    );
  return cmd;
}

async function runRestore(opts: Opts): Promise<void> {
  if (!opts.from) fail('invalid_request', 'give the backup to restore from with --from TARGET');
  const config = configFrom(opts, KEYS);
  const [repo] = await openRepositories([opts.from], readBackupKey(config.backupKeyFile), false);
  const at = typeof opts.at === 'string' ? new Date(opts.at) : undefined;
  if (at && Number.isNaN(at.getTime())) fail('invalid_request', `--at "${String(opts.at)}" is not a time; use ISO-8601 such as 2026-11-24T18:00:00Z`);
  await withKeepsake(opts, async (k) => {
    const scope: RestoreScope = {
      userIds: await userIds(k, opts, repo),
      categories: parseCategories(opts.category as string | undefined),
      priority: parsePriority(opts.priority as string | undefined),
      at: at?.toISOString(),
      concurrency: Number(opts.concurrency) || DEFAULT_RESTORE_CONCURRENCY,
    };
    if (opts.all && !opts.plan && canRestoreInBulk(repo, k.store)) {
      // Everyone from a local backup into SQLite: decoded, validated and written on worker threads, many users per transaction.
      const line = progressLine();
      let drawnAt = 0;
      const { report, identity } = await restoreAllInBulk(repo, k.store, k.blobs, scope, {
        onProgress: (done, known) => {
          const at = Date.now();
          if (at - drawnAt < 200) return;
          drawnAt = at;
          line.update(`restore ${bar(known ? done / known : 0)} ${done}/${known} items`);
        },
      });
      line.done();
      return printReport(opts, report, identity);
    }
    // Offline: nothing else to serve meanwhile, so a local backup is read with synchronous reads.
    const plan = await planRestore(repo, scope, { blockingReads: true });
    if (opts.plan) {
      // Estimated from restore rates measured on a small machine, for the path the restore would take.
      const photos = scope.categories.includes('photos') ? await photoBytes(repo, plan.users) : 0;
      const etaSeconds = estimateSeconds({ items: plan.items, bytes: plan.bytes, photos }, Boolean(opts.all) && canRestoreInBulk(repo, k.store));
      const summary = { users: plan.users.map((u) => u.name), tasks: plan.tasks, items: plan.items, bytes: plan.bytes, photoBytes: photos, etaSeconds, at: scope.at ?? 'latest' };
      print(opts.json, summary, () =>
        [
          `would restore ${plan.users.length} user(s), ${plan.items} items (${Math.round(plan.bytes / 1024)} KiB of backup objects, ${(photos / 1024 / 1024).toFixed(1)} MiB of photos) as of ${summary.at}, in about ${etaSeconds} s`,
          ...scope.priority
            .filter((kind) => plan.tasks.some((t) => t.kind === kind))
            .map((kind) => `  ${kind.padEnd(9)} ${plan.tasks.filter((t) => t.kind === kind).reduce((n, t) => n + t.items, 0)} items for ${plan.tasks.filter((t) => t.kind === kind).length} user(s)`),
        ].join('\n'),
      );
      return;
    }
    // A new epoch; an empty store also takes the backup's server id (devices see their server again).
    const identity = await startRestoredEpoch(k.store, plan.backupServer);
    const tracker = new RestoreTracker(systemClock);
    const line = progressLine();
    let drawnAt = 0;
    const report = await executeRestore(repo, k.store, k.blobs, plan, {
      tracker,
      onTask: () => {
        // Redrawn at most 5 times a second: the overall view walks every planned user.
        const at = Date.now();
        if (at - drawnAt < 200) return;
        drawnAt = at;
        const o = tracker.overall();
        const total = o.categories.reduce((n, c) => n + c.items, 0);
        const done = o.categories.reduce((n, c) => n + c.done, 0);
        line.update(`restore ${bar(total ? done / total : 1)} ${done}/${total} items, ${Math.round(o.itemsPerSecond)}/s`);
      },
    });
    line.done();
    printReport(opts, report, identity);
  });
}

function printReport(opts: Opts, report: RestoreReport, identity: ServerIdentity): void {
  print(opts.json, { ...report, server: identity.id, epoch: identity.epoch }, () =>
    [
      `restored ${report.users} user(s): ${report.items.inserted} items inserted, ${report.items.replaced} replaced, ${report.items.keptNewer} kept newer, ${report.items.unchanged} unchanged, ${report.blobs} photos; server ${identity.id} is now in epoch ${identity.epoch}`,
      `contacts back after ${report.contactsBackMs ?? '-'} ms, everything after ${report.allBackMs} ms (${Math.round(report.itemsPerSecond)} items/s)`,
      ...report.quarantined.map((q) => `  QUARANTINED ${q.user} ${q.kind}: ${q.problems.join('; ')}`),
    ].join('\n'),
  );
  if (report.quarantined.length > 0) process.exitCode = 1;
}
