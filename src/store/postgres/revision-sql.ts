// SQL of the revision reads: one item's history, one version, and the trash.
import { REVISION_COLUMNS } from './rows.js';

/** $1 user, $2 collection, $3 id: kept versions, newest first. */
export const REVISIONS_OF_ITEM = `SELECT ${REVISION_COLUMNS} FROM revisions WHERE user_id = $1 AND collection = $2 AND id = $3 ORDER BY version DESC`;

/** $1 user, $2 collection, $3 id, $4 version. */
export const REVISION_AT = `SELECT ${REVISION_COLUMNS} FROM revisions WHERE user_id = $1 AND collection = $2 AND id = $3 AND version = $4`;

/** $1 user, $2 limit: each deleted item's newest `deleted` revision, newest tombstone first (RecordStore.listTrash). */
export const TRASH_OF_USER = `WITH t AS (SELECT collection, id, version AS tombstone FROM items WHERE user_id = $1 AND deleted)
  SELECT ${REVISION_COLUMNS} FROM (
    SELECT r.*, t.tombstone, ROW_NUMBER() OVER (PARTITION BY r.collection, r.id ORDER BY r.version DESC) AS newest
    FROM t JOIN revisions r ON r.user_id = $1 AND r.collection = t.collection AND r.id = t.id AND r.reason = 'deleted'
  ) kept WHERE newest = 1 ORDER BY tombstone DESC LIMIT $2`;
