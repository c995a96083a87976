// `keepsake drill`: rehearse a disaster on scratch directories and report whether anything was lost.
import { Command } from 'commander';
import { runDrill } from '../../drill/drill.js';
import { action, print } from '../options.js';

export function drillCommand(): Command {
  return new Command('drill')
    .description('disaster rehearsal: fleet at work, database and one backup destroyed, online restore from the other; exit 1 unless zero writes are lost')
    .option('--users <N>', 'simulated users', '5')
    .option('--devices <N>', 'devices per user', '2')
    .option('--duration <S>', 'seconds of load (half before the disaster, half after)', '20')
    .option('--keep', 'keep the scratch directory and print where it is')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: { users: string; devices: string; duration: string; keep?: boolean; json?: boolean }) => {
        const num = (v: string, name: string, min: number) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
          return n;
        };
        const report = await runDrill({
          users: num(opts.users, 'users', 1),
          devices: num(opts.devices, 'devices', 1),
          durationSeconds: num(opts.duration, 'duration', 4),
          keep: opts.keep,
          onStep: opts.json ? undefined : (m) => process.stderr.write(`drill: ${m}\n`),
        });
        print(opts.json, report, () =>
          [
            `DRILL ${report.pass ? 'PASSED' : 'FAILED'}: ${report.lost} of ${report.writesAcknowledged} acknowledged writes lost`,
            `  fleet: ${report.users} users, ${report.devices} devices, ${report.seconds.toFixed(1)} s; ${report.writesBeforeDisaster} writes before the disaster`,
            `  data at risk (RPO): ${report.rpoItemsHealedByDevices} items the surviving backup lacked, re-uploaded by devices`,
            `  contacts back after ${report.contactsBackSeconds?.toFixed(2) ?? '?'} s; everything after ${report.allBackSeconds?.toFixed(2) ?? '?'} s (${Math.round(report.restoreItemsPerSecond)} items/s)`,
            `  devices diverged from the server: ${report.devicesDiverged}; quarantined categories: ${report.quarantinedCategories}`,
            ...report.lostItems.map((l) => `  LOST ${l}`),
            ...report.fleet.errors.map((e) => `  device error: ${e}`),
            ...(report.scratch ? [`  scratch kept in ${report.scratch}`] : []),
          ].join('\n'),
        );
        if (!report.pass) process.exitCode = 1;
      }),
    );
}
