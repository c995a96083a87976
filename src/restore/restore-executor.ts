// Runs a restore from a backup repository into a store: accounts first, then every user's
// categories in priority order, validated against what the backup recorded before they are served.
import type { BackupRepository } from '../backup/repository.js';
import { replayUser, restorePath } from '../backup/replay.js';
import { takeRestoreLease } from '../backup/restore-lease.js';
import type { Kind } from '../core/kinds.js';
import type { Revision, StoredItem } from '../core/model.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore, RestoredItem, RestoreItemsResult } from '../core/ports/record-store.js';
import type { RestoreTask } from '../core/restore/restore-plan.js';
import type { RestoreTracker } from '../core/restore/restore-tracker.js';
import { forEachBounded, limiter } from './bounded.js';
import { PhotoPrefetch } from './photo-prefetch.js';
import { categoryOf, checkCategory } from './plan-user.js';
import { blobOf, restoreBlobs } from './restore-blobs.js';
import type { PlannedUser, RestorePlan } from './restore-planner.js';

export { planRestore, probeBackupServer, type BackupServer, type PlannedUser, type RestorePlan, type RestoreScope } from './restore-planner.js';

/** Items per `restoreItems` call (one savepoint in a group commit). */
const BATCH = 500;
/**
 * Users restored at once within a category unless the scope says otherwise. Each user's category
 * waits for a few fsyncs (a read before, its write, a read after); with many users in flight those
 * waits are shared (the store commits everything queued in one transaction with one fsync), so the
 * restore runs at the speed of the CPU instead of one fsync after another. 512 rather than 128: a
 * third of the fsyncs for 10,000 users' category (100 instead of 277 for three kinds).
 */
export const DEFAULT_RESTORE_CONCURRENCY = 512;
/**
 * Users whose photos are copied at once (each copies a few photos at once): bounds memory. Only the
 * copying waits for this; users without photos go through their photo category at full concurrency.
 */
const PHOTO_USERS_PARALLEL = 16;
/** Accounts written at once (the store groups them into few transactions). */
const ACCOUNTS_PARALLEL = 256;

export interface QuarantinedCategory {
  userId: string;
  user: string;
  kind: Kind;
  problems: string[];
}

export interface RestoreReport {
  users: number;
  items: RestoreItemsResult;
  /** Photos copied into the blob store (by the photo category or, ahead of it, by the copying worker). */
  blobs: number;
  quarantined: QuarantinedCategory[];
  /** Milliseconds from the start until every planned user's contacts were back (null: none planned). */
  contactsBackMs: number | null;
  allBackMs: number;
  itemsPerSecond: number;
  /** Milliseconds spent restoring accounts, then each kind (in priority order). */
  phaseMs: Partial<Record<Kind | 'accounts', number>>;
  /** The restore lease that pins the objects read (null if the target refused it). */
  lease?: string | null;
  leaseError?: string;
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

/** The photos the plan's users need, in restore order: live photo items where planning replayed the user, else the user's blob references. */
function photoHashes(plan: RestorePlan): string[] {
  const out: string[] = [];
  for (const u of plan.users) {
    const state = plan.replayed?.get(u.userId);
    if (!state) {
      out.push(...u.account.blobRefs);
      continue;
    }
    const photos = new Set((u.kinds.get('photos') ?? []).map((c) => c.id));
    for (const i of state.items.values()) {
      const b = photos.has(i.collection) ? blobOf(i) : null;
      if (b) out.push(b);
    }
  }
  return out;
}

/**
 * Executes a plan. Accounts (with password hashes and device tokens, so devices keep working) come
 * back first; then every kind in priority order, users in parallel within a kind: a kind starts only
 * once the previous one is back for everyone ("every user's contacts before anyone's photos"). A
 * category whose replayed data does not validate is quarantined: nothing of it is written, it is
 * reported, and reads of it keep answering `restoring`. Idempotent: running it again (after an
 * interruption) writes only what is missing. Durability comes from the store: every
 * `restoreItems` call is durable when it resolves, and parallel calls share commits and fsyncs.
 */
/** A report of a restore that has not restored anything yet. */
export function emptyRestoreReport(users: number): RestoreReport {
  return {
    users,
    items: { inserted: 0, replaced: 0, keptNewer: 0, unchanged: 0 },
    blobs: 0,
    quarantined: [],
    contactsBackMs: null,
    allBackMs: 0,
    itemsPerSecond: 0,
    phaseMs: {},
  };
}

export async function executeRestore(
  repo: BackupRepository,
  store: RecordStore,
  blobs: BlobStore,
  plan: RestorePlan,
  options: {
    tracker?: RestoreTracker;
    now?: () => string;
    onTask?: (t: RestoreTask, state: string) => void;
  } = {},
): Promise<RestoreReport> {
  const started = Date.now();
  const now = options.now ?? (() => new Date().toISOString());
  const reader = plan.reader ?? repo;
  const tracker = options.tracker;
  tracker?.plan(plan.tasks, plan.scope.priority);
  const report = emptyRestoreReport(plan.users.length);
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

  await forEachBounded(plan.users, ACCOUNTS_PARALLEL, (u) => store.restoreAccount(u.account));
  report.phaseMs.accounts = Date.now() - started;

  const quarantine = (task: RestoreTask, u: PlannedUser, problems: string[]) => {
    report.quarantined.push({ userId: u.userId, user: u.name, kind: task.kind, problems });
    tracker?.set(task.userId, task.kind, 'quarantined');
    options.onTask?.(task, 'quarantined');
  };
  tracker?.accountsRestored();

  const photoCopies = limiter(PHOTO_USERS_PARALLEL);
  // Photo bytes are copied on a worker thread while the records are restored (see PhotoPrefetch),
  // from the end of the first kind on: the first kind (contacts) gets the disk's fsyncs to itself.
  let prefetch: PhotoPrefetch | null = null;
  let prefetchAsked = false;
  const startPrefetch = () => {
    if (prefetchAsked || !plan.scope.categories.includes('photos')) return;
    prefetchAsked = true;
    prefetch = PhotoPrefetch.start(reader, blobs, photoHashes(plan));
  };
  const baselines = new Map<string, { seq: Promise<number>; own: number }>();
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
    // The user's sequence before this restore wrote anything of theirs, read once per user (a user's
    // categories never run at once): it tells a quiet store from one a device wrote to meanwhile.
    let base = baselines.get(u.userId);
    if (!base) {
      base = { seq: store.lastSeq(u.userId), own: 0 };
      base.seq.catch(() => {});
      baselines.set(u.userId, base);
    }
    // A user planning replayed whole is not read again; otherwise only this kind's data is read.
    const cached = plan.replayed?.get(u.userId);
    const state = cached ?? (await replayUser(reader, u.index, { seq: u.seq, collections }));
    const { mine, items } = categoryOf(state, collections);
    const problems = checkCategory(state, collections);
    if (problems.length > 0) return quarantine(task, u, problems);
    if (cached) for (const i of items) cached.items.delete(`${i.collection}\u0000${i.id}`); // done with them: less to keep in memory
    const seqBefore = await base.seq;
    if (task.kind === 'photos' && items.length > 0) {
      await prefetch?.whenDone(items.map(blobOf).filter((b): b is string => b !== null));
      const copied = await photoCopies(() => restoreBlobs(reader, blobs, items));
      report.blobs += copied;
    }
    const entries = entriesOf(items, state.revisions.filter((r) => collections.has(r.collection)));
    const outcome: RestoreItemsResult = { inserted: 0, replaced: 0, keptNewer: 0, unchanged: 0 };
    // An empty category (no rows at all in the backup) needs no write, only the check below.
    for (let i = 0; i < entries.length; i += BATCH) {
      const part = entries.slice(i, i + BATCH);
      const r = await store.restoreItems(u.userId, part, now());
      for (const k of Object.keys(r) as Array<keyof RestoreItemsResult>) {
        report.items[k] += r[k];
        outcome[k] += r[k];
      }
      base.own += r.inserted + r.replaced + r.keptNewer; // each took a sequence number
      tracker?.advance(u.userId, task.kind, part.filter((e) => !e.item.deleted).length);
    }
    // Verified: the store now holds exactly what the backup recorded (same count and digest). When
    // it does not, either the store holds more (a device wrote, or data was there before: the
    // category is `restored`, its data validated before it was written), or this restore wrote
    // something else than it validated: that is the case when every item was newly inserted, no
    // device wrote meanwhile (the user's sequence moved by exactly what this restore wrote for them)
    // and the store's count is what the restore added, and it is quarantined.
    const ids = [...collections];
    const after = await Promise.all(ids.map((id) => store.getCollection(u.userId, id)));
    let verified = true;
    for (const [n, id] of ids.entries()) {
      const recorded = mine.get(id);
      const got = after[n];
      if (!recorded || !got || (got.digest === recorded.digest && got.count === recorded.count)) continue;
      verified = false;
      // Read only on a mismatch; read later than the check, it can only make `alone` false (no false alarm).
      const alone = outcome.inserted === entries.length && (await store.lastSeq(u.userId)) - seqBefore <= base.own;
      const added = items.filter((i) => i.collection === id && !i.deleted).length;
      if (alone && got.count === added) return quarantine(task, u, [`collection ${id}: store digest after restore differs from the backup's`]);
    }
    tracker?.set(task.userId, task.kind, verified ? 'verified' : 'restored');
    options.onTask?.(task, verified ? 'verified' : 'restored');
  };

  const concurrency = Math.max(1, plan.scope.concurrency ?? DEFAULT_RESTORE_CONCURRENCY);
  try {
    for (const kind of plan.scope.priority) {
      const queue = plan.tasks.filter((t) => t.kind === kind);
      if (queue.length === 0) continue;
      if (kind === 'photos' || Object.keys(report.phaseMs).length > 1) startPrefetch();
      const kindStarted = Date.now();
      await forEachBounded(queue, concurrency, runTask);
      report.phaseMs[kind] = Date.now() - kindStarted;
      if (kind === 'contacts') report.contactsBackMs = Date.now() - started;
    }
  } finally {
    const p = prefetch as PhotoPrefetch | null;
    report.blobs += p?.copied ?? 0;
    await p?.close();
  }
  tracker?.finish();
  report.allBackMs = Date.now() - started;
  const restoredItems = report.items.inserted + report.items.replaced + report.items.unchanged + report.items.keptNewer;
  report.itemsPerSecond = restoredItems / Math.max(0.001, report.allBackMs / 1000);
  return report;
}
