// RecordStore.readBackupBatch for PostgreSQL: one REPEATABLE READ transaction, so every query sees one snapshot.
import type pg from 'pg';
import { mergeBackupRecords } from '../../core/backup-records.js';
import type { BackupBatch, LogRecord } from '../../core/ports/record-store.js';
import { toStoreError } from './pg-errors.js';
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

export async function readBackupBatchRows(pool: pg.Pool, userId: string, afterSeq: number, limit: number): Promise<BackupBatch | null> {
  const client = await pool.connect().catch((e) => Promise.reject(toStoreError(e)));
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const [u] = (await client.query<UserRow & { seq: string }>(`SELECT ${USER_COLUMNS}, seq FROM users WHERE id = $1`, [userId])).rows;
    if (!u) {
      await client.query('COMMIT');
      return null;
    }
    const after = [userId, afterSeq, limit];
    const items = (await client.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE user_id = $1 AND version > $2 ORDER BY version LIMIT $3`, after)).rows.map(
      (r): LogRecord => ({ type: 'item', ...toItem(r) }),
    );
    const revisions = (
      await client.query<RevisionRow>(`SELECT ${REVISION_COLUMNS} FROM revisions WHERE user_id = $1 AND version > $2 ORDER BY version LIMIT $3`, after)
    ).rows.map((r): LogRecord => ({ type: 'revision', ...toRevision(r) }));
    const tokens = (await client.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE user_id = $1 ORDER BY ord`, [userId])).rows.map(toToken);
    const collections = (await client.query<CollectionRow>(`SELECT ${COLLECTION_COLUMNS} FROM collections WHERE user_id = $1 ORDER BY ord`, [userId])).rows.map(
      toCollection,
    );
    const blobRefs = (await client.query<{ hash: string }>('SELECT hash FROM blob_refs WHERE user_id = $1 ORDER BY hash', [userId])).rows.map((r) => r.hash);
    const davProperties = (
      await client.query<{ collection: string; resource: string; props: Record<string, string> }>(
        `SELECT collection, resource, props FROM dav_properties WHERE user_id = $1 AND props <> '{}'::jsonb ORDER BY collection COLLATE "C", resource COLLATE "C"`,
        [userId],
      )
    ).rows;
    await client.query('COMMIT');
    const seq = Number(u.seq);
    return { user: toUser(u), tokens, collections, blobRefs, davProperties, seq, ...mergeBackupRecords(items, revisions, limit, seq) };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw toStoreError(e);
  } finally {
    client.release();
  }
}
