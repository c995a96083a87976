// RecordStore.readBackupBatch for SQLite: one synchronous read, so everything sees one snapshot.
import { mergeBackupRecords } from '../../core/backup-records.js';
import type { BackupBatch, LogRecord } from '../../core/ports/record-store.js';
import {
  COLLECTION_COLUMNS,
  type CollectionRow,
  ITEM_COLUMNS,
  type ItemRow,
  REVISION_COLUMNS,
  type RevisionRow,
  TOKEN_COLUMNS,
  type TokenRow,
  toCollection,
  toItem,
  toRevision,
  toToken,
  toUser,
  USER_COLUMNS,
  type UserRow,
} from './rows.js';
import type { StatementCache } from './statements.js';

export function readBackupBatchRows(q: StatementCache, userId: string, afterSeq: number, limit: number): BackupBatch | null {
  const user = q.sql(`SELECT ${USER_COLUMNS}, seq FROM users WHERE id = ?`).get(userId) as (UserRow & { seq: number }) | undefined;
  if (!user) return null;
  const items = (q.sql(`SELECT ${ITEM_COLUMNS} FROM items WHERE user_id = ? AND version > ? ORDER BY version LIMIT ?`).all(userId, afterSeq, limit) as ItemRow[]).map(
    (r): LogRecord => ({ type: 'item', ...toItem(r) }),
  );
  const revisions = (
    q.sql(`SELECT ${REVISION_COLUMNS} FROM revisions WHERE user_id = ? AND version > ? ORDER BY version LIMIT ?`).all(userId, afterSeq, limit) as RevisionRow[]
  ).map((r): LogRecord => ({ type: 'revision', ...toRevision(r) }));
  return {
    user: toUser(user),
    tokens: (q.sql(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE user_id = ? ORDER BY ord`).all(userId) as TokenRow[]).map(toToken),
    collections: (q.sql(`SELECT ${COLLECTION_COLUMNS} FROM collections WHERE user_id = ? ORDER BY ord`).all(userId) as CollectionRow[]).map(toCollection),
    blobRefs: (q.sql('SELECT hash FROM blob_refs WHERE user_id = ? ORDER BY hash').all(userId) as Array<{ hash: string }>).map((r) => r.hash),
    davProperties: (
      q.sql('SELECT collection, resource, props FROM dav_properties WHERE user_id = ? ORDER BY collection, resource').all(userId) as Array<{
        collection: string;
        resource: string;
        props: string;
      }>
    ).map((r) => ({ collection: r.collection, resource: r.resource, props: JSON.parse(r.props) as Record<string, string> })),
    seq: user.seq,
    ...mergeBackupRecords(items, revisions, limit, user.seq),
  };
}
