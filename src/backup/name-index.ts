// The backup's small name index: which user ids an account name has stood for, so an operator
// can restore or list a user by name from the backup alone (the store may be the thing lost).
import { createHmac } from 'node:crypto';
import { fail } from '../core/errors.js';
import { BackupError } from './backup-error.js';
import type { BackupRepository } from './repository.js';
import { names } from './repository-format.js';

/** Payload of a `names/<key>/<user>` object: one account name and the user id it stood for. */
export interface NameEntry {
  name: string;
  userId: string;
  /** When the shipper (or a checkpoint) first saw the user under this name. */
  at: string;
}

const NAME_PREFIX = 'names/';

/**
 * The folder of one name: a keyed hash of it, so object names do not show account names. The
 * key is the repository's object key when it is encrypted (nobody without the key can test a
 * guessed name), else the repository id (names are as visible as the rest of an unencrypted
 * backup; the hash only keeps object names short and in the allowed characters).
 */
function nameKey(repo: BackupRepository, name: string): string {
  const key = repo.objectKey() ?? Buffer.from(repo.config.repositoryId, 'utf8');
  return createHmac('sha256', key).update(`keepsake account name\0${name}`).digest('hex');
}

/** Object name of the entry saying `name` stood for `userId`. */
export function nameEntryObject(repo: BackupRepository, name: string, userId: string): string {
  return `${NAME_PREFIX}${nameKey(repo, name)}/${names.userKey(userId)}`;
}

/**
 * Records that `user.name` stands for `user.id` (write-once: a second call for the same pair
 * writes nothing). The shipper calls it whenever a segment carries the account, so a rename adds
 * an entry and the old one stays: the old name still finds the user.
 */
export async function recordUserName(repo: BackupRepository, user: { id: string; name: string }, at: string): Promise<void> {
  const entry: NameEntry = { name: user.name, userId: user.id, at };
  await repo.putJson(nameEntryObject(repo, user.name, user.id), 'nameIndex', entry);
}

/**
 * The user ids `name` has stood for in this backup, oldest entry first: one listing of the
 * name's folder and a read of each entry there, nothing of any user's data. Empty when the name
 * is unknown (or the backup was written before the index existed: see docs/backup-format.md).
 */
export async function usersNamed(repo: BackupRepository, name: string): Promise<NameEntry[]> {
  const folder = `${NAME_PREFIX}${nameKey(repo, name)}/`;
  const out: NameEntry[] = [];
  for (const o of await repo.listNames(folder)) {
    const entry = await repo.getJson<NameEntry>(o.name, 'nameIndex');
    // The entry must say what its object name says (a copied or mis-filed object is damage, not an answer).
    if (entry.name !== name || nameEntryObject(repo, entry.name, entry.userId) !== o.name) {
      throw new BackupError('backup_object_corrupt', `name index entry ${o.name} does not match its name`, { object: o.name });
    }
    out.push(entry);
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/**
 * Resolves what an operator typed (`--user`) to one user id of the backup: a name in the name
 * index, else a user id the backup holds objects for. Fails `user_not_found` (naming the backup)
 * when neither, and `invalid_request` when the name stood for several accounts over time (one was
 * deleted and the name reused): the message lists their ids to choose from.
 */
export async function resolveBackupUser(repo: BackupRepository, nameOrId: string): Promise<string> {
  const entries = await usersNamed(repo, nameOrId);
  const ids = [...new Set(entries.map((e) => e.userId))];
  if (ids.length === 1) return ids[0];
  if (ids.length > 1) {
    const list = entries.map((e) => `${e.userId} (from ${e.at})`).join(', ');
    fail('invalid_request', `the name "${nameOrId}" stood for ${ids.length} accounts in ${repo.target.description}: ${list}; give one id with --user`, { candidates: ids });
  }
  if (await backupHoldsUser(repo, nameOrId)) return nameOrId;
  fail('user_not_found', `${repo.target.description} holds no user named "${nameOrId}" and no user with that id`);
}

/** Whether the backup holds any segment or snapshot of this user id (one listing of their prefix). */
export async function backupHoldsUser(repo: BackupRepository, userId: string): Promise<boolean> {
  const index = await repo.userIndex(userId);
  return index.segments.length > 0 || index.snapshots.length > 0;
}
