// `keepsake import USER FILE…`: .vcf, .ics and Keepsake export zips; deduplicated and safe to re-run.
import { Command } from 'commander';
import { basename } from 'node:path';
import { importFiles } from '../../export/import-files.js';
import { STORE_KEYS, action, addConfigOptions, print, withKeepsake } from '../options.js';
import { progressLine } from '../progress.js';

export function importCommand(): Command {
  return addConfigOptions(
    new Command('import').description('import .vcf, .ics or Keepsake export .zip files into a user; re-running changes nothing').argument('<user>').argument('<files...>'),
    STORE_KEYS,
  )
    .option('--contacts <collection>', 'collection for contacts from .vcf files', 'contacts')
    .option('--calendar <collection>', 'collection for events from .ics files', 'calendar')
    .option('--tasks <collection>', 'collection for tasks from .ics files', 'tasks')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (name: string, files: string[], opts: Record<string, unknown>) => {
        const line = progressLine();
        const report = await withKeepsake(opts, async (k) => {
          const user = await k.accounts.requireUser(name);
          return importFiles(
            k.sync,
            k.photos,
            k.store,
            user,
            files.map((path) => ({ name: basename(path), path })),
            (p) => line.update(`import ${p.file}: ${p.items} items — ${p.report.created} new, ${p.report.updated} updated, ${p.report.unchanged} unchanged`),
            { contactsCollection: String(opts.contacts), calendarCollection: String(opts.calendar), tasksCollection: String(opts.tasks) },
          );
        });
        line.done();
        print(opts.json === true, report, () => {
          const head = `imported into ${name}: ${report.created} new, ${report.updated} updated, ${report.unchanged} unchanged, ${report.conflicts} conflicts, ${report.rejected.length} rejected`;
          return [head, ...report.rejected.map((r) => `  rejected ${r.file}${r.id ? ` item ${r.id}` : ''}: [${r.code}] ${r.message}`)].join('\n');
        });
        if (report.rejected.length > 0) process.exitCode = 1;
      }),
    );
}
