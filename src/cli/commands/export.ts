// `keepsake export USER --out FILE.zip`: everything a user has, in open formats.
import { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { fail } from '../../core/errors.js';
import { exportTo } from '../../export/export-zip.js';
import { STORE_KEYS, action, addConfigOptions, print, withKeepsake } from '../options.js';

export function exportCommand(): Command {
  return addConfigOptions(new Command('export').description("write a user's data as a zip: .vcf, .ics, Markdown, original photos, JSON").argument('<user>'), STORE_KEYS)
    .requiredOption('--out <file>', 'zip file to write (written to FILE.partial, then renamed)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (name: string, opts: Record<string, unknown>) => {
        const out = String(opts.out);
        const partial = `${out}.partial`;
        const bytes = await withKeepsake(opts, async (k) => {
          const user = await k.accounts.requireUser(name);
          if (user.deletedAt) fail('user_not_found', `user ${name} is deleted; undelete it first`);
          const file = createWriteStream(partial);
          try {
            await exportTo(k.store, k.blobs, user, file);
            await finished(file);
            const fd = await open(partial, 'r');
            await fd.sync();
            const { size } = await fd.stat();
            await fd.close();
            await rename(partial, out);
            return size;
          } catch (e) {
            file.destroy();
            await rm(partial, { force: true });
            throw e;
          }
        });
        print(opts.json === true, { user: name, file: out, bytes }, () => `exported ${name} to ${out} (${bytes} bytes)`);
      }),
    );
}
