// Restore writes for the PostgreSQL store: account rows and backed-up items in one transaction
// that holds the user's row lock, so they serialize with pushes from every server process.
import type pg from 'pg';
import { EMPTY_DIGEST } from '../../core/digest.js';
import { KeepsakeError } from '../../core/errors.js';
import type { AdoptedIdentity, RestoredAccount, RestoredItem, RestoreItemsResult } from '../../core/ports/record-store.js';
import { planRestoreItem } from '../../core/restore/restore-item-plan.js';
import { ITEM_COLUMNS, type ItemRow, toItem } from './rows.js';

/** Runs `fn` in a transaction on its own connection; rolls back on any error. */
async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

export function restoreAccountRows(pool: pg.Pool, a: RestoredAccount): Promise<void> {
  const u = a.user;
  return inTransaction(pool, async (c) => {
    await c.query(
      `INSERT INTO users (id, name, password_hash, admin, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
      [u.id, u.name, u.passwordHash, u.admin, u.createdAt, u.deletedAt],
    );
    for (const t of a.tokens) {
      await c.query(
        `INSERT INTO tokens (id, user_id, device, token_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [t.id, t.userId, t.device, t.tokenHash, t.createdAt, t.lastUsedAt],
      );
    }
    for (const col of a.collections) {
      await c.query(
        `INSERT INTO collections (user_id, id, kind, name, digest, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, id) DO NOTHING`,
        [u.id, col.id, col.kind, col.name, EMPTY_DIGEST, col.createdAt, col.deletedAt],
      );
    }
    if (a.blobRefs.length) {
      await c.query(`INSERT INTO blob_refs (user_id, hash) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, [u.id, a.blobRefs]);
    }
    for (const d of a.davProperties ?? []) {
      await c.query(
        `INSERT INTO dav_properties (user_id, collection, resource, props) VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (user_id, collection, resource) DO UPDATE SET props = excluded.props WHERE dav_properties.props = '{}'::jsonb`,
        [u.id, d.collection, d.resource, JSON.stringify(d.props)],
      );
    }
    await c.query('UPDATE users SET seq = greatest(seq, $2) WHERE id = $1', [u.id, a.seq]);
  });
}

export function restoreItemRows(pool: pg.Pool, userId: string, entries: RestoredItem[], now: string): Promise<RestoreItemsResult> {
  return inTransaction(pool, async (c) => {
    const u = await c.query<{ seq: string }>('SELECT seq FROM users WHERE id = $1 FOR UPDATE', [userId]);
    if (u.rowCount === 0) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
    let seq = Number(u.rows[0].seq);
    const result: RestoreItemsResult = { inserted: 0, replaced: 0, keptNewer: 0, unchanged: 0 };
    const cols = new Map<string, { count: number; digest: string; last: string | null }>();
    for (const e of entries) {
      const cid = e.item.collection;
      let col = cols.get(cid);
      if (!col) {
        const r = await c.query<{ count: string; digest: string; last_change_at: string | null }>(
          'SELECT count, digest, last_change_at FROM collections WHERE user_id = $1 AND id = $2',
          [userId, cid],
        );
        if (r.rowCount === 0) throw new KeepsakeError('collection_not_found', `no collection "${cid}"`);
        col = { count: Number(r.rows[0].count), digest: r.rows[0].digest, last: r.rows[0].last_change_at };
        cols.set(cid, col);
      }
      const cur = await c.query<ItemRow>(`SELECT ${ITEM_COLUMNS} FROM items WHERE user_id = $1 AND collection = $2 AND id = $3`, [userId, cid, e.item.id]);
      // Only an item that exists can be newer than the backup, and only then are its revisions asked about.
      const liveRevisions = cur.rows[0]
        ? new Set(
            (await c.query<{ hash: string }>('SELECT hash FROM revisions WHERE user_id = $1 AND collection = $2 AND id = $3 AND NOT deleted', [userId, cid, e.item.id])).rows.map(
              (r) => r.hash,
            ),
          )
        : new Set<string>();
      const plan = planRestoreItem(cur.rows[0] ? toItem(cur.rows[0]) : null, e, now, () => ++seq, (hash) => liveRevisions.has(hash));
      if (plan.item) {
        const i = plan.item;
        await c.query(
          `INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (user_id, collection, id) DO UPDATE SET version = excluded.version, hash = excluded.hash,
             modified = excluded.modified, deleted = excluded.deleted, content = excluded.content`,
          [userId, i.collection, i.id, i.version, i.hash, i.modified, i.deleted, i.content],
        );
        if (col.last === null || i.modified > col.last) col.last = i.modified;
      }
      for (const r of plan.revisions) {
        await c.query(
          `INSERT INTO revisions (user_id, collection, id, version, hash, modified, deleted, content, reason, kept_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
          [userId, r.collection, r.id, r.version, r.hash, r.modified, r.deleted, r.content, r.reason, r.keptAt],
        );
      }
      col.count += plan.countDelta;
      col.digest = plan.nextDigest(col.digest);
      result[plan.outcome]++;
    }
    await c.query('UPDATE users SET seq = $2 WHERE id = $1', [userId, seq]);
    for (const [id, col] of cols) {
      await c.query('UPDATE collections SET count = $3, digest = $4, last_change_at = $5 WHERE user_id = $1 AND id = $2', [userId, id, col.count, col.digest, col.last]);
    }
    return result;
  });
}

/** A new epoch; with `adopt`, also the backup's server id and an epoch above the backup's. */
export async function bumpEpochRow(pool: pg.Pool, adopt?: AdoptedIdentity): Promise<{ id: string; epoch: number; createdAt: string }> {
  const r = adopt
    ? await pool.query<{ id: string; epoch: string; created_at: string }>(
        'UPDATE server_identity SET id = $1, epoch = GREATEST(epoch, $2) + 1 RETURNING id, epoch, created_at',
        [adopt.id, adopt.aboveEpoch],
      )
    : await pool.query<{ id: string; epoch: string; created_at: string }>('UPDATE server_identity SET epoch = epoch + 1 RETURNING id, epoch, created_at');
  return { id: r.rows[0].id, epoch: Number(r.rows[0].epoch), createdAt: r.rows[0].created_at };
}
