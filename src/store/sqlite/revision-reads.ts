// Reads of kept revisions: one item's history, one version, and the trash.
import type { Revision } from '../../core/model.js';
import { REVISION_COLUMNS, type RevisionRow, toRevision } from './rows.js';
import type { StatementCache } from './statements.js';

/** Kept versions of one item, newest first. */
export function revisionsOf(q: StatementCache, userId: string, collection: string, id: string): Revision[] {
  const rows = q
    .sql(`SELECT ${REVISION_COLUMNS} FROM revisions WHERE user_id = ? AND collection = ? AND id = ? ORDER BY version DESC`)
    .all(userId, collection, id) as RevisionRow[];
  return rows.map(toRevision);
}

export function revisionAt(q: StatementCache, userId: string, collection: string, id: string, version: number): Revision | null {
  const r = q
    .sql(`SELECT ${REVISION_COLUMNS} FROM revisions WHERE user_id = ? AND collection = ? AND id = ? AND version = ?`)
    .get(userId, collection, id, version) as RevisionRow | undefined;
  return r ? toRevision(r) : null;
}

/** Each deleted item's newest `deleted` revision, newest tombstone first (RecordStore.listTrash). */
export function trashOf(q: StatementCache, userId: string, limit: number): Revision[] {
  const rows = q
    .sql(
      `WITH t AS (SELECT collection, id, version AS tombstone FROM items WHERE user_id = @user AND deleted = 1)
       SELECT ${REVISION_COLUMNS} FROM (
         SELECT r.*, t.tombstone, ROW_NUMBER() OVER (PARTITION BY r.collection, r.id ORDER BY r.version DESC) AS newest
         FROM t JOIN revisions r ON r.user_id = @user AND r.collection = t.collection AND r.id = t.id AND r.reason = 'deleted'
       ) kept WHERE newest = 1 ORDER BY tombstone DESC LIMIT @limit`,
    )
    .all({ user: userId, limit }) as RevisionRow[];
  return rows.map(toRevision);
}
