// Removes every row of a soft-deleted account, once it is past the retention window.
import type pg from 'pg';

// One statement: all or nothing, and the DELETE on users takes the row lock that applyChanges
// also takes, so a write for this user either finished before or finds no user after.
const PURGE_SQL = `WITH
  gone AS (DELETE FROM users WHERE id = $1 AND deleted_at IS NOT NULL AND deleted_at < $2 RETURNING id),
  t AS (DELETE FROM tokens WHERE user_id IN (SELECT id FROM gone)),
  c AS (DELETE FROM collections WHERE user_id IN (SELECT id FROM gone)),
  i AS (DELETE FROM items WHERE user_id IN (SELECT id FROM gone)),
  r AS (DELETE FROM revisions WHERE user_id IN (SELECT id FROM gone)),
  b AS (DELETE FROM blob_refs WHERE user_id IN (SELECT id FROM gone)),
  d AS (DELETE FROM dav_properties WHERE user_id IN (SELECT id FROM gone))
  SELECT count(*)::int AS n FROM gone`;

/** Deletes the user and all their rows if still soft-deleted since before `deletedBefore`. */
export async function purgeDeletedUser(pool: pg.Pool, userId: string, deletedBefore: string): Promise<boolean> {
  const { rows } = await pool.query<{ n: number }>(PURGE_SQL, [userId, deletedBefore]);
  return rows[0].n > 0;
}
