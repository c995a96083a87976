// A local backup directory read with synchronous reads, for the offline `keepsake restore` command.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BackupObjectInfo, type BackupTarget, isValidBackupName } from '../core/ports/backup-target.js';

/**
 * Reads of `target` (a local directory) done with `readFileSync`: for the small objects a restore
 * plans from, one synchronous read costs a fraction of an asynchronous one (four threadpool round
 * trips), and the offline command has no requests to keep answering meanwhile. Null when the target
 * is not a local directory. Everything but `get` goes to the target.
 */
export function blockingReads(target: BackupTarget): BackupTarget | null {
  const root = target.localPath();
  if (!root) return null;
  return {
    description: target.description,
    async get(name: string): Promise<Uint8Array | null> {
      // The same names FileTarget accepts (its temp directory is not an object).
      if (!isValidBackupName(name) || name === '.tmp' || name.startsWith('.tmp/')) return target.get(name);
      try {
        const b = readFileSync(join(root, ...name.split('/')));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    putIfAbsent: (name: string, bytes: Uint8Array) => target.putIfAbsent(name, bytes),
    rangeGet: (name: string, offset: number, length: number) => target.rangeGet(name, offset, length),
    list: (prefix: string): AsyncIterable<BackupObjectInfo> => target.list(prefix),
    delete: (name: string) => target.delete(name),
    localPath: () => root,
    close: () => target.close(),
  };
}
