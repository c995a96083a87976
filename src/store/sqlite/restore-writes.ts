// Restore writes for the SQLite store: account rows and backed-up items, inside the caller's
// write transaction (the group commit), with the decisions taken by core's planRestoreItem.
import { EMPTY_DIGEST } from '../../core/digest.js';
import { KeepsakeError } from '../../core/errors.js';
import { planRestoreItem } from '../../core/restore/restore-item-plan.js';
import type { AdoptedIdentity, RestoredAccount, RestoredItem, RestoreItemsResult, ServerIdentity } from '../../core/ports/record-store.js';
import { ITEM_COLUMNS, type ItemRow, TOKEN_COLUMNS, toItem, USER_COLUMNS } from './rows.js';
import type { StatementCache } from './statements.js';

export function restoreAccountRows(q: StatementCache, a: RestoredAccount): void {
  const u = a.user;
  q.sql(`INSERT OR IGNORE INTO users (${USER_COLUMNS}, seq) VALUES (?, ?, ?, ?, ?, ?, 0)`).run(u.id, u.name, u.passwordHash, u.admin ? 1 : 0, u.createdAt, u.deletedAt);
  const exists = q.sql('SELECT 1 FROM users WHERE id = ?').get(u.id);
  if (!exists) throw new KeepsakeError('user_exists', `cannot restore user ${u.name}: another account holds that name`);
  for (const t of a.tokens) {
    if (q.sql('SELECT 1 FROM tokens WHERE id = ?').get(t.id)) continue;
    q.sql(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`).run(t.id, t.userId, t.device, t.tokenHash, t.createdAt, t.lastUsedAt);
  }
  for (const c of a.collections) {
    q.sql(
      `INSERT OR IGNORE INTO collections (user_id, id, kind, name, count, digest, created_at, last_change_at, deleted_at) VALUES (?, ?, ?, ?, 0, ?, ?, NULL, ?)`,
    ).run(u.id, c.id, c.kind, c.name, EMPTY_DIGEST, c.createdAt, c.deletedAt);
  }
  for (const b of a.blobRefs) q.sql('INSERT OR IGNORE INTO blob_refs (user_id, hash) VALUES (?, ?)').run(u.id, b);
  q.sql('UPDATE users SET seq = max(seq, ?) WHERE id = ?').run(a.seq, u.id);
}

export function restoreItemRows(q: StatementCache, userId: string, entries: RestoredItem[], now: string): RestoreItemsResult {
  const user = q.sql('SELECT seq FROM users WHERE id = ?').get(userId) as { seq: number } | undefined;
  if (!user) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
  let seq = user.seq;
  const result: RestoreItemsResult = { inserted: 0, replaced: 0, keptNewer: 0, unchanged: 0 };
  const cols = new Map<string, { count: number; digest: string; last: string | null }>();
  for (const e of entries) {
    const cid = e.item.collection;
    let col = cols.get(cid);
    if (!col) {
      const r = q.sql('SELECT count, digest, last_change_at FROM collections WHERE user_id = ? AND id = ?').get(userId, cid) as
        | { count: number; digest: string; last_change_at: string | null }
        | undefined;
      if (!r) throw new KeepsakeError('collection_not_found', `no collection "${cid}"`);
      col = { count: r.count, digest: r.digest, last: r.last_change_at };
      cols.set(cid, col);
    }
    const row = q.sql(`SELECT ${ITEM_COLUMNS} FROM items WHERE user_id = ? AND collection = ? AND id = ?`).get(userId, cid, e.item.id) as ItemRow | undefined;
    const plan = planRestoreItem(row ? toItem(row) : null, e, now, () => ++seq);
    if (plan.item) {
      const i = plan.item;
      q.sql(
        `INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, collection, id) DO UPDATE SET version = excluded.version, hash = excluded.hash,
           modified = excluded.modified, deleted = excluded.deleted, content = excluded.content`,
      ).run(userId, i.collection, i.id, i.version, i.hash, i.modified, i.deleted ? 1 : 0, i.content);
      if (col.last === null || i.modified > col.last) col.last = i.modified;
    }
    for (const r of plan.revisions) {
      q.sql(
        `INSERT OR IGNORE INTO revisions (user_id, collection, id, version, hash, modified, deleted, content, reason, kept_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(userId, r.collection, r.id, r.version, r.hash, r.modified, r.deleted ? 1 : 0, r.content, r.reason, r.keptAt);
    }
    col.count += plan.countDelta;
    col.digest = plan.nextDigest(col.digest);
    result[plan.outcome]++;
  }
  q.sql('UPDATE users SET seq = ? WHERE id = ?').run(seq, userId);
  for (const [id, c] of cols) {
    q.sql('UPDATE collections SET count = ?, digest = ?, last_change_at = ? WHERE user_id = ? AND id = ?').run(c.count, c.digest, c.last, userId, id);
  }
  return result;
}

/** A new epoch; with `adopt`, also the backup's server id and an epoch above the backup's. */
export function bumpEpochRow(q: StatementCache, adopt?: AdoptedIdentity): ServerIdentity {
  if (adopt) q.sql('UPDATE server SET id = ?, epoch = max(epoch, ?) + 1 WHERE singleton = 1').run(adopt.id, adopt.aboveEpoch);
  else q.sql('UPDATE server SET epoch = epoch + 1 WHERE singleton = 1').run();
  const r = q.sql('SELECT id, epoch, created_at FROM server WHERE singleton = 1').get() as { id: string; epoch: number; created_at: string };
  return { id: r.id, epoch: r.epoch, createdAt: r.created_at };
}
