// Applies a group of applyChanges calls inside one open transaction: lock users, load in bulk, plan with core, write in bulk.
import type { PoolClient } from 'pg';
import { planChange, revisionChangeId } from '../../core/change-plan.js';
import { KeepsakeError } from '../../core/errors.js';
import type { ChangeOutcome, PreparedChange, Revision, StoredItem } from '../../core/model.js';
import { toItem } from './rows.js';

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
  items: Map<string, StoredItem>;
  /** Keys of items that already have a row (UPDATE rather than INSERT). */
  stored: Set<string>;
  /** The changeId on each item's current row (see core/change-plan.ts, revisionChangeId). */
  itemChangeIds: Map<string, string | null>;
  /** retryKey(user, collection, id, changeId) of kept revisions that carry a changeId of this group. */
  revisionChangeIds: Set<string>;
  collections: Map<string, CollectionState>;
  writtenItems: Map<string, { userId: string; item: StoredItem; changeId: string }>;
  revisions: { userId: string; revision: Revision; changeId: string | null }[];
  dirtyCollections: Map<string, { userId: string; id: string }>;
  dirtyUsers: Set<string>;
}

// Keys for the in-memory maps. Ids are validated by core and contain no control characters.
const itemKey = (userId: string, collection: string, id: string) => `${userId}\u0000${collection}\u0000${id}`;
const pairKey = (userId: string, x: string) => `${userId}\u0000${x}`;
const retryKey = (userId: string, collection: string, id: string, changeId: string) => `${itemKey(userId, collection, id)}\u0000${changeId}`;

/**
 * Runs inside a transaction the caller opened (and commits or rolls back). Locks every user of
 * the group with `FOR NO KEY UPDATE` in id order — the same order in every process, so two groups
 * never deadlock on each other — then reads everything planning needs in one query, plans each
 * call with core's `planChange` exactly as the reference store does, and writes all rows with one
 * statement. The reads start after the locks are granted, so under READ COMMITTED they see every
 * change committed by earlier holders: no lost update, no sequence number handed out twice.
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

interface LoadRow {
  kind: 'item' | 'revision' | 'collection';
  user_id: string;
  collection: string | null;
  id: string;
  version: string | null;
  hash: string | null;
  modified: string | null;
  deleted: boolean | null;
  content: string | null;
  count: string | null;
  digest: string | null;
  last_change_at: string | null;
  change_id: string | null;
}

// Parameters travel as one jsonb array of tuples per table: JSON.stringify is far cheaper in Node
// than pg's per-element array escaping, and jsonb_array_elements is as cheap as unnest in the server.
const LOAD_SQL = `
  SELECT 'item' AS kind, i.user_id, i.collection, i.id, i.version, i.hash, i.modified, i.deleted, i.content,
         NULL::bigint AS count, NULL::text AS digest, NULL::text AS last_change_at, i.change_id
    FROM jsonb_array_elements($1::jsonb) k
    JOIN items i ON i.user_id = k->>0 AND i.collection = k->>1 AND i.id = k->>2
  UNION ALL
  SELECT 'revision', r.user_id, r.collection, r.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, r.change_id
    FROM jsonb_array_elements($2::jsonb) k
    JOIN revisions r ON r.user_id = k->>0 AND r.collection = k->>1 AND r.id = k->>2 AND r.change_id = k->>3
  UNION ALL
  SELECT 'collection', c.user_id, NULL, c.id, NULL, NULL, NULL, NULL, NULL, c.count, c.digest, c.last_change_at, NULL
    FROM jsonb_array_elements($3::jsonb) k
    JOIN collections c ON c.user_id = k->>0 AND c.id = k->>1`;

async function loadGroup(client: PoolClient, calls: ApplyCall[]): Promise<GroupState> {
  const users = new Set<string>();
  const itemKeys = new Map<string, string[]>();
  const changeKeys = new Map<string, string[]>();
  const collectionKeys = new Map<string, string[]>();
  for (const call of calls) {
    users.add(call.userId);
    for (const c of call.changes) {
      itemKeys.set(itemKey(call.userId, c.collection, c.id), [call.userId, c.collection, c.id]);
      changeKeys.set(retryKey(call.userId, c.collection, c.id, c.changeId), [call.userId, c.collection, c.id, c.changeId]);
      collectionKeys.set(pairKey(call.userId, c.collection), [call.userId, c.collection]);
    }
  }
  const state: GroupState = {
    seq: new Map(),
    items: new Map(),
    stored: new Set(),
    itemChangeIds: new Map(),
    revisionChangeIds: new Set(),
    collections: new Map(),
    writtenItems: new Map(),
    revisions: [],
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

  const { rows } = await client.query<LoadRow>({
    name: 'ks_load_group',
    text: LOAD_SQL,
    values: [json(itemKeys.values()), json(changeKeys.values()), json(collectionKeys.values())],
  });
  for (const r of rows) {
    if (r.kind === 'item') {
      const k = itemKey(r.user_id, r.collection!, r.id);
      state.items.set(k, toItem({ ...r, collection: r.collection!, version: r.version!, hash: r.hash!, modified: r.modified!, deleted: r.deleted! }));
      state.stored.add(k);
      state.itemChangeIds.set(k, r.change_id);
    } else if (r.kind === 'revision') {
      state.revisionChangeIds.add(retryKey(r.user_id, r.collection!, r.id, r.change_id!));
    } else {
      state.collections.set(pairKey(r.user_id, r.id), { count: Number(r.count), digest: r.digest!, lastChangeAt: r.last_change_at });
    }
  }
  return state;
}

function json(rows: Iterable<unknown[]>): string {
  return JSON.stringify([...rows]);
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
  const items = new Map<string, { item: StoredItem; changeId: string }>();
  const retries = new Set<string>();
  const cols = new Map<string, CollectionState & { id: string }>();
  const revisions: { revision: Revision; changeId: string | null }[] = [];
  const out: ChangeOutcome[] = [];
  for (const change of call.changes) {
    const k = itemKey(userId, change.collection, change.id);
    const mine = items.get(k);
    const current = mine?.item ?? state.items.get(k) ?? null;
    const currentChangeId = mine ? mine.changeId : (state.itemChangeIds.get(k) ?? null);
    const rk = retryKey(userId, change.collection, change.id, change.changeId);
    if (current && (currentChangeId === change.changeId || retries.has(rk) || state.revisionChangeIds.has(rk))) {
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
    if (plan.item) items.set(k, { item: plan.item, changeId: change.changeId });
    if (plan.revision) {
      const changeId = revisionChangeId(plan.revision, change, currentChangeId);
      revisions.push({ revision: plan.revision, changeId });
      if (changeId !== null) retries.add(retryKey(userId, change.collection, change.id, changeId));
    }
    if (plan.item || plan.revision) col.lastChangeAt = now;
    col.count += plan.countDelta;
    col.digest = plan.nextDigest(col.digest);
    out.push(copyOutcome(plan.outcome));
  }

  for (const [k, { item, changeId }] of items) {
    state.items.set(k, item);
    state.itemChangeIds.set(k, changeId);
    state.writtenItems.set(k, { userId, item, changeId });
  }
  for (const r of revisions) state.revisions.push({ userId, ...r });
  for (const rk of retries) state.revisionChangeIds.add(rk);
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

// New items are plain INSERTs and existing ones UPDATEs (cheaper than INSERT ... ON CONFLICT):
// which is which is known because every item write for a user happens under that user's lock.
// Data-modifying CTEs touch disjoint rows, so their shared snapshot does not matter.
const ITEM_TUPLE = `e->>0, e->>1, e->>2, (e->>3)::bigint, e->>4, e->>5, (e->>6)::boolean, e->>7, e->>8`;
const WRITE_SQL = `WITH
  new_items AS (
    INSERT INTO items (user_id, collection, id, version, hash, modified, deleted, content, change_id)
    SELECT ${ITEM_TUPLE} FROM jsonb_array_elements($1::jsonb) e),
  changed_items AS (
    UPDATE items i SET version = (e->>3)::bigint, hash = e->>4, modified = e->>5, deleted = (e->>6)::boolean, content = e->>7,
                       change_id = e->>8
      FROM jsonb_array_elements($2::jsonb) e
     WHERE i.user_id = e->>0 AND i.collection = e->>1 AND i.id = e->>2),
  new_revisions AS (
    INSERT INTO revisions (user_id, collection, id, version, hash, modified, deleted, content, change_id, reason, kept_at)
    SELECT ${ITEM_TUPLE}, e->>9, e->>10 FROM jsonb_array_elements($3::jsonb) e),
  changed_collections AS (
    UPDATE collections c SET count = (e->>2)::bigint, digest = e->>3, last_change_at = e->>4
      FROM jsonb_array_elements($4::jsonb) e
     WHERE c.user_id = e->>0 AND c.id = e->>1),
  changed_users AS (
    UPDATE users u SET seq = (e->>1)::bigint FROM jsonb_array_elements($5::jsonb) e WHERE u.id = e->>0)
  SELECT 1`;

const itemTuple = (userId: string, i: StoredItem, changeId: string | null) => [userId, i.collection, i.id, i.version, i.hash, i.modified, i.deleted, i.content, changeId];

/** Writes everything the group planned in one statement (one round trip). */
async function writeGroup(client: PoolClient, state: GroupState): Promise<boolean> {
  if (state.writtenItems.size === 0 && state.revisions.length === 0 && state.dirtyUsers.size === 0) {
    return false;
  }
  const inserted: unknown[][] = [];
  const updated: unknown[][] = [];
  for (const [k, { userId, item, changeId }] of state.writtenItems) {
    (state.stored.has(k) ? updated : inserted).push(itemTuple(userId, item, changeId));
  }
  await client.query({
    name: 'ks_write_group',
    text: WRITE_SQL,
    values: [
      json(inserted),
      json(updated),
      json(state.revisions.map(({ userId, revision: r, changeId }) => [...itemTuple(userId, r, changeId), r.reason, r.keptAt])),
      json([...state.dirtyCollections].map(([k, { userId, id }]) => {
        const c = state.collections.get(k)!;
        return [userId, id, c.count, c.digest, c.lastChangeAt];
      })),
      json([...state.dirtyUsers].map((u) => [u, state.seq.get(u)!])),
    ],
  });
  return true;
}
