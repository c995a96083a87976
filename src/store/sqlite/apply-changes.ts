// Applies a batch of prepared changes inside the caller's transaction; the decisions come from core.
import { planChange, revisionChangeId } from '../../core/change-plan.js';
import { KeepsakeError } from '../../core/errors.js';
import type { ChangeOutcome, PreparedChange, Revision, StoredItem } from '../../core/model.js';
import { ITEM_COLUMNS, type ItemRow, toItem } from './rows.js';
import type { StatementCache } from './statements.js';

/** Built once: a template literal makes a new string per call, and the statement cache hashes it. */
const SELECT_ITEM = `SELECT ${ITEM_COLUMNS}, change_id FROM items WHERE collection_ord = ? AND id = ?`;

interface CollectionState {
  /** `collections.ord`: with the item id, the key of an item row. */
  ord: number;
  count: number;
  digest: string;
  lastChangeAt: string | null;
  dirty: boolean;
}

/**
 * Applies `changes` for one user, in order, exactly as the in-memory reference does: a changeId
 * found on the item's row or its revisions answers `duplicate`; otherwise `planChange` decides and
 * this function writes the planned rows with their change ids, bumps `users.seq` and updates each touched collection's
 * count, digest and last change time. Must run inside a write transaction (the group commit's
 * transaction), so either all of it is written or none; throws `user_not_found` or
 * `collection_not_found` and then writes nothing.
 */
export function applyChangesInTransaction(q: StatementCache, userId: string, changes: PreparedChange[], now: string): ChangeOutcome[] {
  const user = q.sql('SELECT seq FROM users WHERE id = ?').get(userId) as { seq: number } | undefined;
  if (!user) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
  let seq = user.seq;
  const startSeq = seq;
  const collections = new Map<string, CollectionState>();
  const out: ChangeOutcome[] = [];

  for (const change of changes) {
    // Every item row belongs to a collection row, so a missing collection means no item either.
    const col = collectionState(q, collections, userId, change.collection);
    const row = q.sql(SELECT_ITEM)
      .get(col.ord, change.id) as (ItemRow & { change_id: string | null }) | undefined;
    const current = row ? toItem(row) : null;
    if (row && isDuplicate(q, userId, change, row.change_id)) {
      out.push({ status: 'duplicate', item: current });
      continue;
    }
    const plan = planChange(current, change, now, () => ++seq);
    if (plan.item) upsertItem(q, userId, col.ord, plan.item, change.changeId);
    if (plan.revision) insertRevision(q, userId, plan.revision, revisionChangeId(plan.revision, change, row?.change_id ?? null));
    if (plan.item || plan.revision) col.lastChangeAt = now;
    col.count += plan.countDelta;
    col.digest = plan.nextDigest(col.digest);
    col.dirty = true;
    out.push(plan.outcome);
  }

  if (seq !== startSeq) q.sql('UPDATE users SET seq = ? WHERE id = ?').run(seq, userId);
  for (const [id, c] of collections) {
    if (!c.dirty) continue;
    q.sql('UPDATE collections SET count = ?, digest = ?, last_change_at = ? WHERE user_id = ? AND id = ?')
      .run(c.count, c.digest, c.lastChangeAt, userId, id);
  }
  return out;
}

function collectionState(q: StatementCache, cache: Map<string, CollectionState>, userId: string, id: string): CollectionState {
  let state = cache.get(id);
  if (!state) {
    const row = q.sql('SELECT ord, count, digest, last_change_at FROM collections WHERE user_id = ? AND id = ?').get(userId, id) as
      | { ord: number; count: number; digest: string; last_change_at: string | null }
      | undefined;
    if (!row) throw new KeepsakeError('collection_not_found', `no collection "${id}"`);
    state = { ord: row.ord, count: row.count, digest: row.digest, lastChangeAt: row.last_change_at, dirty: false };
    cache.set(id, state);
  }
  return state;
}

/** The change is a retry: its id is on the item's current row or on one of its kept revisions. */
function isDuplicate(q: StatementCache, userId: string, change: PreparedChange, currentChangeId: string | null): boolean {
  if (currentChangeId === change.changeId) return true;
  return q.sql('SELECT 1 FROM revisions WHERE user_id = ? AND collection = ? AND id = ? AND change_id = ?')
    .get(userId, change.collection, change.id, change.changeId) !== undefined;
}

function upsertItem(q: StatementCache, userId: string, collectionOrd: number, item: StoredItem, changeId: string): void {
  q.sql(
    `INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content, change_id, collection_ord)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (collection_ord, id) DO UPDATE SET
       version = excluded.version, hash = excluded.hash, modified = excluded.modified,
       deleted = excluded.deleted, content = excluded.content, change_id = excluded.change_id`,
  ).run(userId, item.collection, item.id, item.version, item.hash, item.modified, item.deleted ? 1 : 0, item.content, changeId, collectionOrd);
}

function insertRevision(q: StatementCache, userId: string, r: Revision, changeId: string | null): void {
  q.sql(
    `INSERT INTO revisions (user_id, collection, id, version, hash, modified, deleted, content, reason, kept_at, change_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(userId, r.collection, r.id, r.version, r.hash, r.modified, r.deleted ? 1 : 0, r.content, r.reason, r.keptAt, changeId);
}
