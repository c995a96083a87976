// Runs a restore from a backup repository into a store: accounts first, then every user's
// categories in priority order, validated against what the backup recorded before they are served.
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import { names } from '../backup/repository-format.js';
import { checkReplayed, type ReplayedUser, replayUser, restorePath } from '../backup/replay.js';
import { takeRestoreLease } from '../backup/restore-lease.js';
import { contentHash } from '../core/hash.js';
import type { Kind } from '../core/kinds.js';
import type { Revision, StoredItem } from '../core/model.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore, RestoredAccount, RestoredItem, RestoreItemsResult } from '../core/ports/record-store.js';
import { orderTasks, type RestoreTask } from '../core/restore/restore-plan.js';
import type { RestoreTracker } from '../core/restore/restore-tracker.js';
import { seqAt } from './point-in-backup.js';

const BATCH = 500;

export interface RestoreScope {
  /** User ids to restore; all users in the backup when empty. */
  userIds: string[];
  categories: Kind[];
  priority: Kind[];
  /** ISO time to restore to; the newest state when absent. */
  at?: string;
  /** Users restored at once within a category. */
  concurrency?: number;
}

export interface PlannedUser {
  userId: string;
  name: string;
  seq: number;
  index: UserIndex;
  /** Collections of each kind with the item counts the backup recorded. */
  kinds: Map<Kind, Array<{ id: string; count: number }>>;
  /** The account as of `seq`, ready for `RecordStore.restoreAccount`. */
  account: RestoredAccount;
}

export interface RestorePlan {
  scope: RestoreScope;
  users: PlannedUser[];
  tasks: RestoreTask[];
  items: number;
  /** Bytes of backup objects this restore reads at most (segments, snapshots; blobs not counted). */
  bytes: number;
  /** Users whose backup could not even be read far enough to plan them (reported as quarantined). */
  unreadable: Array<{ userId: string; problem: string }>;
}

export interface QuarantinedCategory {
  userId: string;
  user: string;
  kind: Kind;
  problems: string[];
}

export interface RestoreReport {
  users: number;
  items: RestoreItemsResult;
  blobs: number;
  quarantined: QuarantinedCategory[];
  /** Milliseconds from the start until every planned user's contacts were back (null: none planned). */
  contactsBackMs: number | null;
  allBackMs: number;
  itemsPerSecond: number;
  /** The restore lease that pins the objects read (null if the target refused it). */
  lease?: string | null;
  leaseError?: string;
}

/**
 * Reads only the named users' indexes (or every index for a full restore) and their latest account
 * state, to know what there is to restore and in which order.
 */
export async function planRestore(repo: BackupRepository, scope: RestoreScope): Promise<RestorePlan> {
  const indexes = scope.userIds.length ? await Promise.all(scope.userIds.map((id) => repo.userIndex(id))) : [...(await repo.allUserIndexes()).values()];
  const users: PlannedUser[] = [];
  const unreadable: RestorePlan['unreadable'] = [];
  let bytes = 0;
  for (const index of indexes) {
    if (index.segments.length === 0 && index.snapshots.length === 0) continue;
    let seq: number;
    let state;
    try {
      seq = scope.at ? await seqAt(repo, index, scope.at) : Number.MAX_SAFE_INTEGER;
      if (seq === 0) continue;
      state = await replayUser(repo, index, { seq, collections: new Set() });
    } catch (e) {
      unreadable.push({ userId: index.userId, problem: (e as Error).message });
      continue;
    }
    if (!state.account) continue;
    const kinds = new Map<Kind, Array<{ id: string; count: number }>>();
    for (const c of state.collections.values()) {
      if (!kinds.has(c.kind)) kinds.set(c.kind, []);
      kinds.get(c.kind)!.push({ id: c.id, count: c.count });
    }
    const account: RestoredAccount = {
      user: state.account.user,
      tokens: state.account.tokens,
      collections: [...state.collections.values()].map((c) => ({ id: c.id, kind: c.kind, name: c.name, createdAt: c.createdAt, deletedAt: c.deletedAt })),
      blobRefs: state.blobRefs,
      seq: state.seq,
    };
    users.push({ userId: index.userId, name: state.account.user.name, seq: state.seq, index, kinds, account });
    bytes += index.segments.reduce((n, s) => n + s.size, 0) + index.snapshots.reduce((n, s) => n + s.size, 0);
  }
  const tasks = orderTasks(
    users.flatMap((u) => [...u.kinds].map(([kind, cols]) => ({ userId: u.userId, kind, items: cols.reduce((n, c) => n + c.count, 0) }))),
    scope.priority,
    scope.categories,
  );
  return { scope, users, tasks, items: tasks.reduce((n, t) => n + t.items, 0), bytes, unreadable };
}

/** Pairs each replayed item with its revisions. */
function entriesOf(items: Iterable<StoredItem>, revisions: Revision[]): RestoredItem[] {
  const byItem = new Map<string, Revision[]>();
  for (const r of revisions) {
    const k = `${r.collection}\u0000${r.id}`;
    if (!byItem.has(k)) byItem.set(k, []);
    byItem.get(k)!.push(r);
  }
  return [...items].map((item) => ({ item, revisions: byItem.get(`${item.collection}\u0000${item.id}`) ?? [] }));
}

/**
 * Executes a plan. Accounts (with password hashes and device tokens, so devices keep working) come
 * back first; then tasks run in plan order. A category whose replayed data does not validate is
 * quarantined: nothing of it is written, it is reported, and reads of it keep answering `restoring`.
 * Idempotent: running it again (after an interruption) writes only what is missing.
 */
export async function executeRestore(
  repo: BackupRepository,
  store: RecordStore,
  blobs: BlobStore,
  plan: RestorePlan,
  options: {
    tracker?: RestoreTracker;
    now?: () => string;
    onTask?: (t: RestoreTask, state: string) => void;
    /** Memory for replayed users kept between category passes (default 256 MiB). */
    cacheBytes?: number;
  } = {},
): Promise<RestoreReport> {
  const started = Date.now();
  const now = options.now ?? (() => new Date().toISOString());
  const tracker = options.tracker;
  tracker?.plan(plan.tasks, plan.scope.priority);
  const report: RestoreReport = {
    users: plan.users.length,
    items: { inserted: 0, replaced: 0, keptNewer: 0, unchanged: 0 },
    blobs: 0,
    quarantined: [],
    contactsBackMs: null,
    allBackMs: 0,
    itemsPerSecond: 0,
  };
  const byId = new Map(plan.users.map((u) => [u.userId, u]));
  for (const u of plan.unreadable) {
    for (const kind of plan.scope.categories) report.quarantined.push({ userId: u.userId, user: u.userId, kind, problems: [u.problem] });
  }

  // Pin what this restore reads, so a prune running meanwhile leaves it alone. A read-only target
  // cannot take the lease; the restore goes on (nothing prunes a read-only target either).
  try {
    const objects = plan.users.flatMap((u) => {
      const p = restorePath(u.index, u.seq);
      return [...(p.snapshot ? [p.snapshot] : []), ...p.segments];
    });
    report.lease = await takeRestoreLease(repo, objects, `restore of ${plan.users.length} user(s)`);
  } catch (e) {
    report.lease = null;
    report.leaseError = (e as Error).message;
  }

  for (const u of plan.users) await store.restoreAccount(u.account);

  const quarantine = (task: RestoreTask, u: PlannedUser, problems: string[]) => {
    report.quarantined.push({ userId: u.userId, user: u.name, kind: task.kind, problems });
    tracker?.set(task.userId, task.kind, 'quarantined');
    options.onTask?.(task, 'quarantined');
  };
  tracker?.accountsRestored();

  // The first pass (contacts, by default) replays only what it needs, so contacts are back as soon
  // as possible. Later passes replay a user whole once and keep it, within a memory budget, for the
  // passes after: segments are then read once per user instead of once per category.
  const cache = new Map<string, ReplayedUser>();
  let cacheBytes = 0;
  const budget = options.cacheBytes ?? 256 * 1024 * 1024;
  let firstPass = true;
  const replayed = async (u: PlannedUser, collections: ReadonlySet<string>): Promise<ReplayedUser> => {
    const hit = cache.get(u.userId);
    if (hit) return hit;
    if (firstPass || cacheBytes >= budget) return replayUser(repo, u.index, { seq: u.seq, collections });
    const whole = await replayUser(repo, u.index, { seq: u.seq });
    let size = 0;
    for (const i of whole.items.values()) size += 200 + (i.content?.length ?? 0);
    for (const r of whole.revisions) size += 200 + (r.content?.length ?? 0);
    if (cacheBytes + size <= budget) {
      cache.set(u.userId, whole);
      cacheBytes += size;
    }
    return whole;
  };

  const runTask = async (task: RestoreTask) => {
    const u = byId.get(task.userId)!;
    try {
      await restoreTask(task, u);
    } catch (e) {
      // A damaged or missing backup object stops this user's category, never the whole restore.
      quarantine(task, u, [(e as Error).message]);
    }
  };
  const restoreTask = async (task: RestoreTask, u: PlannedUser) => {
    tracker?.set(task.userId, task.kind, 'restoring');
    options.onTask?.(task, 'restoring');
    const collections = new Set((u.kinds.get(task.kind) ?? []).map((c) => c.id));
    const state = await replayed(u, collections);
    // Validate only this category's part (a cached whole user holds every category).
    const problems = checkReplayed({
      ...state,
      collections: new Map([...state.collections].filter(([id]) => collections.has(id))),
      items: new Map([...state.items].filter(([, i]) => collections.has(i.collection))),
    });
    if (problems.length > 0) return quarantine(task, u, problems);
    const before = new Map<string, number>();
    for (const id of collections) before.set(id, (await store.getCollection(u.userId, id))?.count ?? 0);
    const items = [...state.items.values()].filter((i) => collections.has(i.collection));
    if (task.kind === 'photos') report.blobs += await restoreBlobs(repo, blobs, items);
    const entries = entriesOf(items, state.revisions.filter((r) => collections.has(r.collection)));
    const seqBefore = await store.lastSeq(u.userId);
    let clean = true;
    let ownSeqs = 0;
    for (let i = 0; i < entries.length; i += BATCH) {
      const part = entries.slice(i, i + BATCH);
      const r = await store.restoreItems(u.userId, part, now());
      for (const k of Object.keys(r) as Array<keyof RestoreItemsResult>) report.items[k] += r[k];
      if (r.keptNewer > 0 || r.replaced > 0) clean = false;
      ownSeqs += r.inserted + r.replaced + r.keptNewer;
      tracker?.advance(u.userId, task.kind, part.filter((e) => !e.item.deleted).length);
    }
    // Verified: the store now holds exactly what the backup recorded. That is checkable only when
    // the store had nothing of its own in these collections and no device wrote meanwhile (the
    // user's sequence moved by exactly what this restore wrote); otherwise the category is
    // `restored`, its data having been validated before it was written.
    const quiet = (await store.lastSeq(u.userId)) - seqBefore <= ownSeqs;
    let verified = clean && quiet;
    for (const id of collections) {
      const recorded = state.collections.get(id);
      const got = await store.getCollection(u.userId, id);
      if (!recorded || !got) continue;
      if (before.get(id) !== 0) verified = false;
      if (verified && (got.digest !== recorded.digest || got.count !== recorded.count)) {
        return quarantine(task, u, [`collection ${id}: store digest after restore differs from the backup's`]);
      }
    }
    tracker?.set(task.userId, task.kind, verified ? 'verified' : 'restored');
    options.onTask?.(task, verified ? 'verified' : 'restored');
  };

  const concurrency = Math.max(1, plan.scope.concurrency ?? 4);
  // Kinds in priority order; within a kind, users in parallel. A kind starts only when the
  // previous one is back for everyone: that is the promise "contacts before photos".
  for (const kind of plan.scope.priority) {
    const queue = plan.tasks.filter((t) => t.kind === kind);
    if (queue.length === 0) continue;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        while (next < queue.length) await runTask(queue[next++]);
      }),
    );
    if (kind === 'contacts') report.contactsBackMs = Date.now() - started;
    firstPass = false;
  }
  tracker?.finish();
  report.allBackMs = Date.now() - started;
  const restoredItems = report.items.inserted + report.items.replaced + report.items.unchanged + report.items.keptNewer;
  report.itemsPerSecond = restoredItems / Math.max(0.001, report.allBackMs / 1000);
  return report;
}

/** Copies the photo bytes that live photo items need and the blob store lacks; returns how many. */
async function restoreBlobs(repo: BackupRepository, blobs: BlobStore, items: StoredItem[]): Promise<number> {
  let n = 0;
  for (const item of items) {
    if (item.deleted || item.content === null) continue;
    const hash = (JSON.parse(item.content) as { blob?: string }).blob;
    if (!hash || (await blobs.stat(hash))) continue;
    const bytes = await repo.get(names.blob(hash), 'blob');
    if (contentHash(bytes) !== hash) throw new Error(`backup object ${names.blob(hash)} does not hash to its name`);
    await blobs.put(hash, (async function* () {
      yield bytes;
    })(), { maxBytes: Number.MAX_SAFE_INTEGER });
    n++;
  }
  return n;
}
