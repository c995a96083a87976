// What `keepsake restore --plan` says about size and time: the photo bytes the planned users refer
// to (a backup's largest part, which planning itself never reads) and an estimate of the duration.
import type { BackupRepository } from '../backup/repository.js';
import { names } from '../backup/repository-format.js';
import { isContentHash } from '../core/hash.js';
import type { PlannedUser } from './restore-planner.js';

const MiB = 1024 * 1024;
/**
 * Restore rates, rounded well down from what 2 shared cores did (bench/restore.bench.ts): the bulk
 * path (`--all` from a backup directory into SQLite) restored 25,000–33,000 items/s while copying
 * photos at 130–170 MB/s; the item-by-item path (one user, `--affected`, other targets) is slower.
 */
const RATES = {
  bulk: { itemsPerSecond: 20_000, bytesPerSecond: 100 * MiB },
  itemByItem: { itemsPerSecond: 5_000, bytesPerSecond: 50 * MiB },
};

/** Photos looked up one listing each; more are found in one listing of every blob object. */
const ONE_BY_ONE = 64;

/**
 * Bytes of the photos the users' accounts refer to, each counted once, as the backup stores them.
 * Photos the backup lacks count nothing (the restore reports them).
 */
export async function photoBytes(repo: BackupRepository, users: PlannedUser[]): Promise<number> {
  const wanted = new Set<string>();
  for (const u of users) for (const b of u.account.blobRefs) if (isContentHash(b)) wanted.add(names.blob(b));
  const listed = wanted.size <= ONE_BY_ONE ? (await Promise.all([...wanted].map((n) => repo.listNames(n)))).flat() : await repo.listNames('blobs/');
  let bytes = 0;
  for (const o of listed) if (wanted.has(o.name)) bytes += o.size;
  return bytes;
}

/**
 * Seconds a restore of `items` items, `bytes` of backup objects and `photos` bytes of photos takes,
 * about and rather more than less. The bulk path copies photos on a thread of their own while it
 * writes the records, so the longer of the two counts; the item-by-item path counts both.
 */
export function estimateSeconds(work: { items: number; bytes: number; photos: number }, bulk: boolean): number {
  const r = bulk ? RATES.bulk : RATES.itemByItem;
  const records = work.items / r.itemsPerSecond + work.bytes / r.bytesPerSecond;
  const photos = work.photos / r.bytesPerSecond;
  return Math.ceil(bulk ? Math.max(records, photos) : records + photos);
}
