// Lists every user's backup objects for a full restore: on a local directory, each user's `seg`
// and `snap` directories read by name, many at once on the threadpool; elsewhere, the target's listing.
import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackupRepository, indexesFromListing, type UserIndex } from '../backup/repository.js';
import { forEachBounded } from './bounded.js';

/** Directory reads in flight at once. */
const LIST_PARALLEL = 32;
/** The parts of a user's directory a restore reads (docs/backup-format.md); `floor` matters to verify only. */
const PARTS = ['seg', 'snap'];

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
}

/**
 * Every user's index (segments and snapshots, ascending). On a local directory the sizes are not
 * read (they would cost a `stat` per object and only feed `--plan`'s estimate): the synchronous
 * walk of the generic listing, with a `stat` per file, took seconds on the main thread for 10,000 users.
 */
export async function listUserIndexes(repo: BackupRepository): Promise<Map<string, UserIndex>> {
  const root = repo.target.localPath();
  if (!root) return repo.allUserIndexes();
  const keys = (await entries(join(root, 'users'))).filter((k) => /^[A-Za-z0-9_-]+$/.test(k));
  const listing: Array<{ name: string; size: number }> = [];
  await forEachBounded(keys, LIST_PARALLEL, async (key) => {
    for (const part of PARTS) for (const e of await entries(join(root, 'users', key, part))) listing.push({ name: `users/${key}/${part}/${e}`, size: 0 });
  });
  // Byte order of the names, as a target's listing gives them (indexes are ascending).
  listing.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return indexesFromListing(listing);
}

/**
 * {@link listUserIndexes} with synchronous directory reads, for a caller with nothing else to do
 * meanwhile (the offline bulk restore): a `readdir(2)` of each part of each user's directory, with
 * no threadpool round trip and no error for a part a user lacks. Null when the backup
 * is not a local directory.
 */
export function listUserIndexesSync(repo: BackupRepository): Map<string, UserIndex> | null {
  const keys = userKeysSync(repo);
  return keys && listUsersSync(repo, keys);
}

/** The keys of every user directory of a local backup directory, in byte order; null when the backup is not one. */
export function userKeysSync(repo: BackupRepository): string[] | null {
  const root = repo.target.localPath();
  if (!root) return null;
  try {
    // Byte order of the names, as a target's listing gives them.
    return readdirSync(join(root, 'users'))
      .filter((k) => /^[A-Za-z0-9_-]+$/.test(k))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** The indexes of the users with these keys (from {@link userKeysSync}), read synchronously; users with no object are left out. */
export function listUsersSync(repo: BackupRepository, keys: string[]): Map<string, UserIndex> {
  const root = repo.target.localPath()!;
  const listing: Array<{ name: string; size: number }> = [];
  for (const key of keys) {
    // Each part read by name: a part a user lacks costs one failed open(2), where reading the
    // user's directory first cost a whole directory read (5 system calls) per user.
    for (const part of PARTS) {
      let names: string[];
      try {
        names = readdirSync(join(root, 'users', key, part));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR' || code === 'ENOENT') continue;
        throw e;
      }
      for (const e of names) listing.push({ name: `users/${key}/${part}/${e}`, size: 0 });
    }
  }
  listing.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return indexesFromListing(listing);
}
