// `keepsake simulate`: run a fleet of simulated devices against a server and check that no
// acknowledged write was lost (exit 1 if any was, or if a device disagrees with the server).
import { Command } from 'commander';
import { KeepsakeError } from '../../core/errors.js';
import { runFleet, type CreateUsers, type FleetSummary } from '../../simulate/index.js';
import { STORE_KEYS, action, addConfigOptions, configFrom, print } from '../options.js';
import { progressLine } from '../progress.js';

function count(flag: string, value: unknown, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new KeepsakeError('invalid_request', `invalid --${flag} "${String(value)}": expected an integer ≥ ${min}`);
  return n;
}

export function simulateCommand(): Command {
  return addConfigOptions(
    new Command('simulate').description(
      'run simulated devices (every kind of data, offline periods, conflicts) against a server; check the server against a ledger of acknowledged writes and every device against the server',
    ),
    STORE_KEYS,
  )
    .requiredOption('--server <url>', 'server to drive, e.g. http://127.0.0.1:7373')
    .option('--users <n>', 'accounts to create', '5')
    .option('--devices <n>', 'devices per account', '3')
    .option('--duration <seconds>', 'how long devices edit before the final check', '30')
    .option('--admin-token <token>', 'create accounts through the admin API with this token (otherwise directly in the store named by --data/--store)')
    .option('--seed <n>', 'random seed, to repeat a run')
    .option('--edit-interval <ms>', 'mean time between one device\'s edits', '2000')
    .option('--sync-interval <ms>', 'time between one device\'s syncs', '3000')
    .option('--photo-size <bytes>', 'size of every simulated photo (default: 200 KB to 3 MB each)')
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (opts: Record<string, unknown>) => {
        const createUsers: CreateUsers =
          typeof opts.adminToken === 'string'
            ? { adminToken: opts.adminToken }
            : (() => {
                const config = configFrom(opts, STORE_KEYS);
                return { dataDir: config.data, ...(config.store ? { store: config.store } : {}) };
              })();
        const line = progressLine();
        const summary = await runFleet({
          serverUrl: String(opts.server),
          users: count('users', opts.users),
          devices: count('devices', opts.devices),
          durationSeconds: count('duration', opts.duration, 0),
          createUsers,
          ...(opts.seed !== undefined ? { seed: count('seed', opts.seed, 0) } : {}),
          editIntervalMs: count('edit-interval', opts.editInterval),
          syncIntervalMs: count('sync-interval', opts.syncInterval),
          ...(opts.photoSize !== undefined ? { photoBytes: count('photo-size', opts.photoSize, 100) } : {}),
          onProgress: (p) =>
            line.update(`simulate: ${p.seconds.toFixed(0)} s — ${p.writes} writes, ${p.syncs} syncs, ${p.conflicts} conflicts, ${p.healed} healed, ${p.offlineDevices} offline`),
        });
        line.done();
        print(opts.json === true, summary, () => describe(summary));
        if (summary.lost > 0 || summary.devicesDiverged > 0) process.exitCode = 1;
      }),
    );
}

function describe(s: FleetSummary): string {
  const lines = [
    `simulated ${s.users} users × ${s.devices / Math.max(s.users, 1)} devices for ${s.seconds.toFixed(1)} s`,
    `  writes acknowledged  ${s.writes} (${s.writesPerSecond.toFixed(1)}/s)`,
    `  conflicts (kept both) ${s.conflicts}`,
    `  healed items         ${s.healed} in ${s.reconciles} reconciliations`,
    `  syncs                ${s.syncs} (p50 ${s.syncP50Ms.toFixed(1)} ms, p99 ${s.syncP99Ms.toFixed(1)} ms)`,
    `  offline periods      ${s.offlinePeriods}`,
    `  lost writes          ${s.lost}${s.lost ? ' ← DATA LOSS' : ''}`,
    `  devices diverged     ${s.devicesDiverged}`,
  ];
  for (const l of s.lostItems) lines.push(`    lost: ${l}`);
  for (const e of s.errors) lines.push(`    error: ${e}`);
  return lines.join('\n');
}
