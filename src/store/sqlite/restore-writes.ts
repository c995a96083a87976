// Restore writes for the SQLite store: account rows and backed-up items, inside the caller's
// write transaction (the group commit), with the decisions taken by core's planRestoreItem.
import { collectionDigest, digestAdd, EMPTY_DIGEST } from '../../core/digest.js';
import { KeepsakeError } from '../../core/errors.js';
import { planRestoreItem } from '../../core/restore/restore-item-plan.js';
import type { AdoptedIdentity, RestoredAccount, RestoredItem, RestoreItemsResult, ServerIdentity } from '../../core/ports/record-store.js';
import { ITEM_COLUMNS, type ItemRow, TOKEN_COLUMNS, toItem, USER_COLUMNS } from './rows.js';
import type { StatementCache } from './statements.js';

/**
 * The `ord`s a restore gives the collections it creates for one account, given their kinds in the
 * account's order; null for the next free ones. A bulk restore gives each kind a range of its own,
 * so that one kind's items, written for every user in one pass, are appended together to the
 * `(collection_ord, id)` index and the collections they update are neighbours, instead of dirtying
 * every page of both in each kind's pass. The ords must rise in the account's order (a user's
 * collections are listed by ord).
 */
export type CollectionOrds = (kinds: string[]) => number[] | null;

/**
 * Writes an account (see `RecordStore.restoreAccount`) inside the caller's write transaction: the
 * user (kept if it exists; a name held by another account fails `user_exists`), tokens, the
 * collections it lacks, blob refs and DAV properties it lacks, and `seq` raised to the backup's.
 * Few statements per account (a bulk restore writes 10,000 of them): one lookup of the user's
 * collections and one of the chosen ords instead of one per collection.
 */
export function restoreAccountRows(q: StatementCache, a: RestoredAccount, ords?: CollectionOrds): void {
  const u = a.user;
  const created = q.sql(`INSERT OR IGNORE INTO users (${USER_COLUMNS}, seq) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(u.id, u.name, u.passwordHash, u.admin ? 1 : 0, u.createdAt, u.deletedAt, a.seq).changes === 1;
  if (!created) {
    const exists = q.sql('SELECT 1 FROM users WHERE id = ?').get(u.id);
    if (!exists) throw new KeepsakeError('user_exists', `cannot restore user ${u.name}: another account holds that name`);
    q.sql('UPDATE users SET seq = max(seq, ?) WHERE id = ?').run(a.seq, u.id);
  }
  for (const t of a.tokens) {
    if (q.sql('SELECT 1 FROM tokens WHERE id = ?').get(t.id)) continue;
    q.sql(`INSERT INTO tokens (${TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`).run(t.id, t.userId, t.device, t.tokenHash, t.createdAt, t.lastUsedAt);
  }
  let creating = a.collections;
  if (ords && creating.length > 0) {
    const have = new Set((q.sql('SELECT id FROM collections WHERE user_id = ?').all(u.id) as Array<{ id: string }>).map((r) => r.id));
    if (have.size > 0) creating = creating.filter((c) => !have.has(c.id));
  }
  let chosen = creating.length > 0 && ords ? ords(creating.map((c) => c.kind)) : null;
  if (chosen && chosen.length > 0 && q.sql(`SELECT 1 FROM collections WHERE ord IN (${chosen.map(() => '?').join(', ')}) LIMIT 1`).get(...chosen)) chosen = null;
  for (const [n, c] of creating.entries()) {
    q.sql(
      `INSERT OR IGNORE INTO collections (ord, user_id, id, kind, name, count, digest, created_at, last_change_at, deleted_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, NULL, ?)`,
    ).run(chosen?.[n] ?? null, u.id, c.id, c.kind, c.name, EMPTY_DIGEST, c.createdAt, c.deletedAt);
  }
  for (const b of a.blobRefs) q.sql('INSERT OR IGNORE INTO blob_refs (user_id, hash) VALUES (?, ?)').run(u.id, b);
  for (const d of a.davProperties ?? []) {
    q.sql('INSERT OR IGNORE INTO dav_properties (user_id, collection, resource, props) VALUES (?, ?, ?, ?)').run(u.id, d.collection, d.resource, JSON.stringify(d.props));
  }
}

/**
 * Writes backed-up items (see `RecordStore.restoreItems`). A collection the store holds no row of
 * at all (the usual case of a restore into an empty or lost store) is "fresh": its items need no
 * lookup of a current row, and its digest is summed once at the end instead of being re-encoded
 * after every item. The outcome is exactly what the item-by-item path gives.
 */
export function restoreItemRows(q: StatementCache, userId: string, entries: RestoredItem[], now: string): RestoreItemsResult {
  const user = q.sql('SELECT seq FROM users WHERE id = ?').get(userId) as { seq: number } | undefined;
  if (!user) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
  let seq = user.seq;
  const nextSeq = () => ++seq;
  const result: RestoreItemsResult = { inserted: 0, replaced: 0, keptNewer: 0, unchanged: 0 };
  const cols = new Map<string, { ord: number; count: number; digest: string; last: string | null; fresh: { ids: Set<string>; live: Array<{ id: string; hash: string }> } | null }>();
  const selectItem = q.sql(`SELECT ${ITEM_COLUMNS} FROM items WHERE collection_ord = ? AND id = ?`);
  const upsert = q.sql(
    `INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content, collection_ord) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (collection_ord, id) DO UPDATE SET version = excluded.version, hash = excluded.hash,
       modified = excluded.modified, deleted = excluded.deleted, content = excluded.content`,
  );
  const liveRevision = q.sql('SELECT 1 FROM revisions WHERE user_id = ? AND collection = ? AND id = ? AND hash = ? AND deleted = 0 LIMIT 1');
  const insertRevision = q.sql(
    `INSERT OR IGNORE INTO revisions (user_id, collection, id, version, hash, modified, deleted, content, reason, kept_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const e of entries) {
    const cid = e.item.collection;
    let col = cols.get(cid);
    if (!col) {
      const r = q.sql('SELECT ord, count, digest, last_change_at FROM collections WHERE user_id = ? AND id = ?').get(userId, cid) as
        | { ord: number; count: number; digest: string; last_change_at: string | null }
        | undefined;
      if (!r) throw new KeepsakeError('collection_not_found', `no collection "${cid}"`);
      const empty = r.count === 0 && r.digest === EMPTY_DIGEST && !q.sql('SELECT 1 FROM items WHERE collection_ord = ? LIMIT 1').get(r.ord);
      col = { ord: r.ord, count: r.count, digest: r.digest, last: r.last_change_at, fresh: empty ? { ids: new Set(), live: [] } : null };
      cols.set(cid, col);
    }
    // In a fresh collection only an id seen earlier in this call can have a row.
    const known = col.fresh === null || col.fresh.ids.has(e.item.id);
    const row = known ? (selectItem.get(col.ord, e.item.id) as ItemRow | undefined) : undefined;
    const hasLiveRevision = (hash: string) => liveRevision.get(userId, e.item.collection, e.item.id, hash) !== undefined;
    const plan = planRestoreItem(row ? toItem(row) : null, e, now, nextSeq, hasLiveRevision);
    if (plan.item) {
      const i = plan.item;
      upsert.run(userId, i.collection, i.id, i.version, i.hash, i.modified, i.deleted ? 1 : 0, i.content, col.ord);
      if (col.last === null || i.modified > col.last) col.last = i.modified;
    }
    for (const r of plan.revisions) insertRevision.run(userId, r.collection, r.id, r.version, r.hash, r.modified, r.deleted ? 1 : 0, r.content, r.reason, r.keptAt);
    col.count += plan.countDelta;
    if (col.fresh && !known && plan.outcome === 'inserted') {
      col.fresh.ids.add(e.item.id);
      if (!e.item.deleted) col.fresh.live.push({ id: e.item.id, hash: e.item.hash });
    } else {
      // Leaving the fresh path for this collection: what it summed so far goes into the digest first.
      if (col.fresh) col.digest = addLive(col.digest, col.fresh.live);
      if (col.fresh) col.fresh.live = [];
      col.digest = plan.nextDigest(col.digest);
    }
    result[plan.outcome]++;
  }
  q.sql('UPDATE users SET seq = ? WHERE id = ?').run(seq, userId);
  for (const [id, c] of cols) {
    if (c.fresh) c.digest = addLive(c.digest, c.fresh.live);
    q.sql('UPDATE collections SET count = ?, digest = ?, last_change_at = ? WHERE user_id = ? AND id = ?').run(c.count, c.digest, c.last, userId, id);
  }
  return result;
}

/** `digest` plus the terms of `live` items (the sum is order-independent). */
function addLive(digest: string, live: Array<{ id: string; hash: string }>): string {
  if (live.length === 0) return digest;
  return digest === EMPTY_DIGEST ? collectionDigest(live) : live.reduce((d, i) => digestAdd(d, i.id, i.hash), digest);
}

/** A new epoch; with `adopt`, also the backup's server id and an epoch above the backup's. */
export function bumpEpochRow(q: StatementCache, adopt?: AdoptedIdentity): ServerIdentity {
  if (adopt) q.sql('UPDATE server SET id = ?, epoch = max(epoch, ?) + 1 WHERE singleton = 1').run(adopt.id, adopt.aboveEpoch);
  else q.sql('UPDATE server SET epoch = epoch + 1 WHERE singleton = 1').run();
  const r = q.sql('SELECT id, epoch, created_at FROM server WHERE singleton = 1').get() as { id: string; epoch: number; created_at: string };
  return { id: r.id, epoch: r.epoch, createdAt: r.created_at };
}
