// Applies a group of applyChanges calls inside one open transaction: lock users, load in bulk, plan with core, write in bulk.
import type { PoolClient } from 'pg';
import { planChange } from '../../core/change-plan.js';
import { KeepsakeError } from '../../core/errors.js';
import type { ChangeOutcome, PreparedChange, Revision, StoredItem } from '../../core/model.js';
import { type ItemRow, toItem } from './rows.js';

/** One queued `applyChanges(userId, changes, now)` call. */
export interface ApplyCall {
  userId: string;
  changes: PreparedChange[];
  now: string;
}

/** What became of one call in the group: its outcomes, or the domain error that rejects it alone. */
export type CallResult = { ok: true; outcomes: ChangeOutcome[] } | { ok: false; error: unknown };

interface CollectionState {
  count: number;
  digest: string;
  lastChangeAt: string | null;
}

/** What the group has read and planned so far; calls are planned against it one after another. */
interface GroupState {
  seq: Map<string, number>;
  items: Map<string, StoredItem | null>;
  changeIds: Set<string>;
  collections: Map<string, CollectionState>;
  writtenItems: Map<string, { userId: string; item: StoredItem }>;
  revisions: { userId: string; revision: Revision }[];
  newChangeIds: { userId: string; changeId: string }[];
  dirtyCollections: Map<string, { userId: string; id: string }>;
  dirtyUsers: Set<string>;
}

// Keys for the in-memory maps. Ids are validated by core and contain no control characters.
const itemKey = (userId: string, collection: string, id: string) => `${userId}\u0000${collection}\u0000${id}`;
const pairKey = (userId: string, x: string) => `${userId}\u0000${x}`;

/**
 * Runs inside a transaction the caller opened (and commits or rolls back). Locks every user of
 * the group with `FOR NO KEY UPDATE` in id order — the same order in every process, so two groups
 * never deadlock on each other — then reads everything the planning needs with three bulk
 * queries, plans each call with core's `planChange` exactly as the reference store does, and
 * writes all rows with one statement. Reads happen after the locks are granted, so under READ
 * COMMITTED they see every change committed by earlier lock holders: no lost update, no sequence
 * number handed out twice.
 *
 * A call that fails a domain check (unknown user or collection) is rejected alone: its planned
 * effects are discarded and the rest of the group still commits.
 */
export async function applyGroup(client: PoolClient, calls: ApplyCall[]): Promise<{ results: CallResult[]; wrote: boolean }> {
  const state = await loadGroup(client, calls);
  const results = calls.map((call): CallResult => {
    try {
      return { ok: true, outcomes: planCall(state, call) };
    } catch (error) {
      return { ok: false, error };
    }
  });
  const wrote = await writeGroup(client, state);
  return { results, wrote };
}

async function loadGroup(client: PoolClient, calls: ApplyCall[]): Promise<GroupState> {
  const users = new Set<string>();
  const itemKeys = new Map<string, string[]>();
  const changeKeys = new Map<string, string[]>();
  const collectionKeys = new Map<string, string[]>();
  for (const call of calls) {
    users.add(call.userId);
    for (const c of call.changes) {
      itemKeys.set(itemKey(call.userId, c.collection, c.id), [call.userId, c.collection, c.id]);
      changeKeys.set(pairKey(call.userId, c.changeId), [call.userId, c.changeId]);
      collectionKeys.set(pairKey(call.userId, c.collection), [call.userId, c.collection]);
    }
  }
  const state: GroupState = {
    seq: new Map(),
    items: new Map(),
    changeIds: new Set(),
    collections: new Map(),
    writtenItems: new Map(),
    revisions: [],
    newChangeIds: [],
    dirtyCollections: new Map(),
    dirtyUsers: new Set(),
  };

  const locked = await client.query<{ id: string; seq: string }>({
    name: 'ks_lock_users',
    text: 'SELECT id, seq FROM users WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE',
    values: [[...users]],
  });
  for (const r of locked.rows) state.seq.set(r.id, Number(r.seq));
  if (itemKeys.size === 0) return state;

  const [iu, ic, ii] = columns(itemKeys, 3);
  const items = await client.query<ItemRow & { user_id: string }>({
    name: 'ks_load_items',
    text: `SELECT i.user_id, i.collection, i.id, i.version, i.hash, i.modified, i.deleted, i.content
             FROM unnest($1::text[], $2::text[], $3::text[]) AS k(user_id, collection, id)
             JOIN items i ON i.user_id = k.user_id AND i.collection = k.collection AND i.id = k.id`,
    values: [iu, ic, ii],
  });
  for (const r of items.rows) state.items.set(itemKey(r.user_id, r.collection, r.id), toItem(r));

  const [cu, cc] = columns(changeKeys, 2);
  const seen = await client.query<{ user_id: string; change_id: string }>({
    name: 'ks_load_change_ids',
    text: `SELECT c.user_id, c.change_id
             FROM unnest($1::text[], $2::text[]) AS k(user_id, change_id)
             JOIN change_ids c ON c.user_id = k.user_id AND c.change_id = k.change_id`,
    values: [cu, cc],
  });
  for (const r of seen.rows) state.changeIds.add(pairKey(r.user_id, r.change_id));

  const [ku, kc] = columns(collectionKeys, 2);
  const cols = await client.query<{ user_id: string; id: string; count: string; digest: string; last_change_at: string | null }>({
    name: 'ks_load_collections',
    text: `SELECT c.user_id, c.id, c.count, c.digest, c.last_change_at
             FROM unnest($1::text[], $2::text[]) AS k(user_id, id)
             JOIN collections c ON c.user_id = k.user_id AND c.id = k.id`,
    values: [ku, kc],
  });
  for (const r of cols.rows) {
    state.collections.set(pairKey(r.user_id, r.id), { count: Number(r.count), digest: r.digest, lastChangeAt: r.last_change_at });
  }
  return state;
}

/** Turns key tuples into `n` parallel arrays for `unnest`. */
function columns(keys: Map<string, string[]>, n: number): string[][] {
  const out: string[][] = Array.from({ length: n }, () => []);
  for (const parts of keys.values()) {
    for (let i = 0; i < n; i++) out[i].push(parts[i]);
  }
  return out;
}

/**
 * Plans one call the way MemoryRecordStore.applyChanges does, on a private overlay of the group
 * state that is merged only if every change of the call could be planned, so a rejected call
 * writes nothing.
 */
function planCall(state: GroupState, call: ApplyCall): ChangeOutcome[] {
  const { userId, now } = call;
  const startSeq = state.seq.get(userId);
  if (startSeq === undefined) throw new KeepsakeError('user_not_found', `no user with id ${userId}`);
  let seq = startSeq;
  const items = new Map<string, StoredItem>();
  const changeIds = new Map<string, string>();
  const cols = new Map<string, CollectionState & { id: string }>();
  const revisions: Revision[] = [];
  const out: ChangeOutcome[] = [];
  for (const change of call.changes) {
    const k = itemKey(userId, change.collection, change.id);
    const current = items.get(k) ?? state.items.get(k) ?? null;
    const ck = pairKey(userId, change.changeId);
    if (changeIds.has(ck) || state.changeIds.has(ck)) {
      out.push({ status: 'duplicate', item: current ? { ...current } : null });
      continue;
    }
    const colKey = pairKey(userId, change.collection);
    let col = cols.get(colKey);
    if (!col) {
      const base = state.collections.get(colKey);
      if (!base) throw new KeepsakeError('collection_not_found', `no collection "${change.collection}"`);
      col = { ...base, id: change.collection };
      cols.set(colKey, col);
    }
    const plan = planChange(current, change, now, () => ++seq);
    if (plan.item) items.set(k, plan.item);
    if (plan.revision) revisions.push(plan.revision);
    if (plan.item || plan.revision) col.lastChangeAt = now;
    col.count += plan.countDelta;
    col.digest = plan.nextDigest(col.digest);
    if (plan.rememberChangeId) changeIds.set(ck, change.changeId);
    out.push(copyOutcome(plan.outcome));
  }

  for (const [k, item] of items) {
    state.items.set(k, item);
    state.writtenItems.set(k, { userId, item });
  }
  for (const revision of revisions) state.revisions.push({ userId, revision });
  for (const [ck, changeId] of changeIds) {
    state.changeIds.add(ck);
    state.newChangeIds.push({ userId, changeId });
  }
  for (const [colKey, { id, ...col }] of cols) {
    const before = state.collections.get(colKey)!;
    if (col.count !== before.count || col.digest !== before.digest || col.lastChangeAt !== before.lastChangeAt) {
      state.collections.set(colKey, col);
      state.dirtyCollections.set(colKey, { userId, id });
    }
  }
  if (seq !== startSeq) {
    state.seq.set(userId, seq);
    state.dirtyUsers.add(userId);
  }
  return out;
}

/** Outcomes get their own item objects: a later change in the group may answer with the same item. */
function copyOutcome(o: ChangeOutcome): ChangeOutcome {
  return 'item' in o && o.item ? { ...o, item: { ...o.item } } : o;
}

/**
 * Writes everything the group planned in one statement (one round trip): data-modifying CTEs
 * touch different tables, so their shared snapshot does not matter.
 */
async function writeGroup(client: PoolClient, state: GroupState): Promise<boolean> {
  if (state.writtenItems.size === 0 && state.revisions.length === 0 && state.newChangeIds.length === 0 && state.dirtyUsers.size === 0) {
    return false;
  }
  const it = [...state.writtenItems.values()];
  const rv = state.revisions;
  const cols = [...state.dirtyCollections].map(([k, { userId, id }]) => ({ userId, id, ...state.collections.get(k)! }));
  const users = [...state.dirtyUsers];
  await client.query({
    name: 'ks_write_group',
    text: `WITH
      w_items AS (
        INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::boolean[], $8::text[])
        ON CONFLICT (user_id, collection, id) DO UPDATE SET
          version = EXCLUDED.version, hash = EXCLUDED.hash, modified = EXCLUDED.modified,
          deleted = EXCLUDED.deleted, content = EXCLUDED.content),
      w_revisions AS (
        INSERT INTO revisions (user_id, collection, id, version, hash, modified, deleted, content, reason, kept_at)
        SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::boolean[], $16::text[], $17::text[], $18::text[])),
      w_change_ids AS (
        INSERT INTO change_ids (user_id, change_id) SELECT * FROM unnest($19::text[], $20::text[])),
      w_collections AS (
        UPDATE collections c SET count = u.count, digest = u.digest, last_change_at = u.last_change_at
          FROM unnest($21::text[], $22::text[], $23::bigint[], $24::text[], $25::text[]) AS u(user_id, id, count, digest, last_change_at)
         WHERE c.user_id = u.user_id AND c.id = u.id),
      w_users AS (
        UPDATE users SET seq = u.seq FROM unnest($26::text[], $27::bigint[]) AS u(id, seq) WHERE users.id = u.id)
      SELECT 1`,
    values: [
      it.map((x) => x.userId),
      it.map((x) => x.item.collection),
      it.map((x) => x.item.id),
      it.map((x) => x.item.version),
      it.map((x) => x.item.hash),
      it.map((x) => x.item.modified),
      it.map((x) => x.item.deleted),
      it.map((x) => x.item.content),
      rv.map((x) => x.userId),
      rv.map((x) => x.revision.collection),
      rv.map((x) => x.revision.id),
      rv.map((x) => x.revision.version),
      rv.map((x) => x.revision.hash),
      rv.map((x) => x.revision.modified),
      rv.map((x) => x.revision.deleted),
      rv.map((x) => x.revision.content),
      rv.map((x) => x.revision.reason),
      rv.map((x) => x.revision.keptAt),
      state.newChangeIds.map((x) => x.userId),
      state.newChangeIds.map((x) => x.changeId),
      cols.map((c) => c.userId),
      cols.map((c) => c.id),
      cols.map((c) => c.count),
      cols.map((c) => c.digest),
      cols.map((c) => c.lastChangeAt),
      users,
      users.map((u) => state.seq.get(u)!),
    ],
  });
  return true;
}
