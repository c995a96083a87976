// Removes every row of a soft-deleted account, once it is past the retention window.
import type { StatementCache } from './statements.js';

/** Every table with a user_id column; `users` itself goes last. */
const USER_TABLES = ['tokens', 'collections', 'items', 'revisions', 'blob_refs', 'dav_properties'] as const;

/**
 * Inside the caller's write transaction: deletes the user and all their rows if the account is
 * still soft-deleted since before `deletedBefore` (an undelete in the meantime wins). Returns
 * whether it did.
 */
export function purgeDeletedUserInTransaction(q: StatementCache, userId: string, deletedBefore: string): boolean {
  const gone = q.sql('DELETE FROM users WHERE id = ? AND deleted_at IS NOT NULL AND deleted_at < ?').run(userId, deletedBefore).changes;
  if (gone === 0) return false;
  for (const table of USER_TABLES) q.sql(`DELETE FROM ${table} WHERE user_id = ?`).run(userId);
  return true;
}
