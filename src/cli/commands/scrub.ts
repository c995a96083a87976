// `keepsake scrub`: recompute every hash and digest from the stored bytes and name what is damaged.
import { Command } from 'commander';
import { scrub } from '../../integrity/scrub.js';
import { STORE_KEYS, action, addConfigOptions, print, withKeepsake } from '../options.js';
import { progressLine } from '../progress.js';

export function scrubCommand(): Command {
  return addConfigOptions(
    new Command('scrub').description('verify every item hash, collection digest and photo blob from the stored bytes; exit 1 if anything is damaged'),
    STORE_KEYS,
  )
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: Record<string, unknown>) => {
        const line = progressLine();
        const report = await withKeepsake(opts, (k) =>
          scrub(k.store, k.blobs, (p) => line.update(`scrub: ${p.phase} ${p.user ?? ''} ${p.collection ?? ''} — ${p.items} items, ${p.blobs} blobs, ${p.problems} problems`)),
        );
        line.done();
        print(opts.json === true, report, () => {
          const head = `scrubbed ${report.users} users, ${report.collections} collections, ${report.items} items, ${report.blobs} blobs`;
          if (report.problems.length === 0) return `${head}: no damage found`;
          const lines = report.problems.map(
            (p) => `  user ${p.user}${p.collection ? ` collection ${p.collection}` : ''}${p.item ? ` item ${p.item}` : ''}${p.blob ? ` blob ${p.blob}` : ''}: ${p.problem}${p.hint ? ` (${p.hint})` : ''}`,
          );
          return `${head}: ${report.problems.length} problem(s)\n${lines.join('\n')}`;
        });
        if (report.problems.length > 0) process.exitCode = 1;
      }),
    );
}
