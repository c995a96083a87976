// Plans a restore from a backup repository: which users, which categories, in what order, how much.
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import { names, type SegmentPayload, type SnapshotPayload, type WriterIdentity } from '../backup/repository-format.js';
import { type ReplayedUser, replayUser } from '../backup/replay.js';
import type { Kind } from '../core/kinds.js';
import type { RestoredAccount } from '../core/ports/record-store.js';
import { orderTasks, type RestoreTask } from '../core/restore/restore-plan.js';
import { mapBounded } from './bounded.js';
import { CachedReadTarget } from './cached-target.js';
import { blockingReads } from './blocking-reads.js';
import { listUserIndexes } from './list-users.js';
import { noteWriter, planUser } from './plan-user.js';

/** Memory for the raw bytes of per-user objects kept between planning and the category passes. */
const CACHE_BYTES = 256 * 1024 * 1024;
/** Memory (estimated) for users replayed whole while planning and kept for the category passes. */
const REPLAYED_BYTES = 512 * 1024 * 1024;
/** Users planned at once (reads overlap on the threadpool). */
const PLAN_PARALLEL = 64;

export interface RestoreScope {
  /** User ids to restore; all users in the backup when empty. */
  userIds: string[];
  categories: Kind[];
  priority: Kind[];
  /** ISO time to restore to; the newest state when absent. */
  at?: string;
  /** Users restored at once within a category (default 512; photo copies for at most 16 at once). */
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

/** The server that wrote a backup's newest object, and the highest epoch any object records. */
export interface BackupServer {
  id: string;
  /** Epoch of the newest object. */
  epoch: number;
  /** Highest epoch recorded by any object read (a restored server starts above it). */
  maxEpoch: number;
  /** When the newest object was written. */
  at: string;
}

export interface RestorePlan {
  scope: RestoreScope;
  users: PlannedUser[];
  tasks: RestoreTask[];
  items: number;
  /**
   * Bytes of backup objects this restore reads (segments, snapshots; blobs not counted): from the
   * listing's sizes, or on a local directory (listed without sizes) what planning read.
   */
  bytes: number;
  /** Users whose backup could not even be read far enough to plan them (reported as quarantined). */
  unreadable: Array<{ userId: string; problem: string }>;
  /** For a restore of every user: the server the backup belongs to (null: not known, or a partial restore). */
  backupServer: BackupServer | null;
  /** The repository as the restore reads it: with a cache of the small objects planning read. */
  reader?: BackupRepository;
  /**
   * Users planning replayed whole (within a memory budget), so each user's backup is decoded once
   * rather than once per category. The executor replays the others per category.
   */
  replayed?: Map<string, ReplayedUser>;
}

/** The writer and time of the newest snapshot or segment in one user's index. */
async function newestWriter(repo: BackupRepository, index: UserIndex): Promise<(WriterIdentity & { at: string }) | null> {
  const snap = index.snapshots.at(-1);
  const seg = [...index.segments].sort((a, b) => a.toSeq - b.toSeq || a.n - b.n).at(-1);
  if (seg && (!snap || seg.toSeq > snap.seq || seg.n > snap.segment)) {
    const p = await repo.getJson<SegmentPayload>(seg.name, 'segment');
    return p.server ? { ...p.server, at: p.shippedAt } : null;
  }
  if (!snap) return null;
  const p = await repo.getJson<SnapshotPayload>(snap.name, 'snapshot');
  return p.server ? { ...p.server, at: p.takenAt } : null;
}

/**
 * The server a backup belongs to, from a few users only (cheap enough to call before serving):
 * the writer of the newest object among the first `sample` users listed. Null for an empty backup.
 */
export async function probeBackupServer(repo: BackupRepository, sample = 16): Promise<BackupServer | null> {
  const ids: string[] = [];
  for await (const o of repo.target.list('users/')) {
    const m = /^users\/([A-Za-z0-9_-]+)\//.exec(o.name);
    if (m && ids.at(-1) !== m[1]) ids.push(m[1]);
    if (ids.length > sample) break;
  }
  let acc: BackupServer | null = null;
  for (const key of ids.slice(0, sample)) {
    const index = await repo.userIndex(names.userFromKey(key));
    acc = noteWriter(acc, await newestWriter(repo, index));
  }
  return acc;
}

/** Memory a replayed user takes, roughly. */
function replayedSize(state: ReplayedUser): number {
  let n = 0;
  for (const i of state.items.values()) n += 300 + (i.content?.length ?? 0);
  for (const r of state.revisions) n += 300 + (r.content?.length ?? 0);
  return n;
}

/**
 * Reads only the named users' indexes (or every index for a full restore) and their account state
 * at the restore point, to know what there is to restore and in which order. Users are read in
 * parallel; the small objects read are kept (within a memory budget) for the restore itself.
 * `blockingReads`: read a local directory synchronously (the offline command: nothing else to serve).
 */
export async function planRestore(repo: BackupRepository, scope: RestoreScope, options: { blockingReads?: boolean } = {}): Promise<RestorePlan> {
  const cache = new CachedReadTarget((options.blockingReads && blockingReads(repo.target)) || repo.target, CACHE_BYTES);
  const reader = repo.withTarget(cache);
  const full = scope.userIds.length === 0;
  const unreadable: RestorePlan['unreadable'] = [];
  let backupServer: BackupServer | null = null;
  const replayed = new Map<string, ReplayedUser>();
  const indexes = scope.userIds.length ? await Promise.all(scope.userIds.map((id) => repo.userIndex(id))) : [...(await listUserIndexes(repo)).values()];
  let replayedBytes = 0;
  const planned = await mapBounded(indexes, PLAN_PARALLEL, async (index): Promise<PlannedUser | null> => {
    const whole = replayedBytes < REPLAYED_BYTES;
    const r = await planUser(reader, index, scope, whole);
    backupServer = noteWriter(backupServer, r.writer);
    if (r.problem !== undefined) unreadable.push({ userId: index.userId, problem: r.problem });
    if (r.state && r.user) {
      replayed.set(index.userId, r.state);
      replayedBytes += replayedSize(r.state);
    }
    return r.user;
  });
  const users = planned.filter((u): u is PlannedUser => u !== null);
  let bytes = 0;
  for (const u of users) bytes += u.index.segments.reduce((n, s) => n + s.size, 0) + u.index.snapshots.reduce((n, s) => n + s.size, 0);
  // A local directory is listed without sizes: what planning read is then the measure.
  bytes = Math.max(bytes, cache.bytesRead);
  const tasks = orderTasks(
    users.flatMap((u) => [...u.kinds].map(([kind, cols]) => ({ userId: u.userId, kind, items: cols.reduce((n, c) => n + c.count, 0) }))),
    scope.priority,
    scope.categories,
  );
  return { scope, users, tasks, items: tasks.reduce((n, t) => n + t.items, 0), bytes, unreadable, backupServer: full ? backupServer : null, reader, replayed };
}
