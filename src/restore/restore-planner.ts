// Plans a restore from a backup repository: which users, which categories, in what order, how much.
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import { names, type SegmentPayload, type SnapshotPayload, type WriterIdentity } from '../backup/repository-format.js';
import { type ReplayedUser, replayUser } from '../backup/replay.js';
import type { Kind } from '../core/kinds.js';
import type { RestoredAccount } from '../core/ports/record-store.js';
import { orderTasks, type RestoreTask } from '../core/restore/restore-plan.js';
import { mapBounded } from './bounded.js';
import { CachedReadTarget } from './cached-target.js';
import { seqAt } from './point-in-backup.js';

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
  /** Users restored at once within a category (default 128; photos at most 16). */
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
  /** Bytes of backup objects this restore reads at most (segments, snapshots; blobs not counted). */
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
 * The repository as `replayUser` sees it, reporting the writer and time of every snapshot and
 * segment it decodes (so the backup's server is learnt without decoding anything twice).
 */
function watching(repo: BackupRepository, note: (w: WriterIdentity & { at: string }) => void): BackupRepository {
  const spy = Object.create(repo) as BackupRepository;
  spy.getJson = async <T>(name: string, type?: Parameters<BackupRepository['getJson']>[1]): Promise<T> => {
    const value = await repo.getJson<T>(name, type);
    const v = value as Partial<SegmentPayload & SnapshotPayload>;
    const at = type === 'segment' ? v.shippedAt : type === 'snapshot' ? v.takenAt : undefined;
    if (at && v.server) note({ ...v.server, at });
    return value;
  };
  return spy;
}

/** Folds one user's newest writer into the backup-wide answer. */
function noteWriter(acc: BackupServer | null, w: (WriterIdentity & { at: string }) | null): BackupServer | null {
  if (!w) return acc;
  if (!acc) return { id: w.id, epoch: w.epoch, maxEpoch: w.epoch, at: w.at };
  const newer = w.at > acc.at;
  return { id: newer ? w.id : acc.id, epoch: newer ? w.epoch : acc.epoch, at: newer ? w.at : acc.at, maxEpoch: Math.max(acc.maxEpoch, w.epoch) };
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

/**
 * Reads only the named users' indexes (or every index for a full restore) and their account state
 * at the restore point, to know what there is to restore and in which order. Users are read in
 * parallel; the small objects read are kept (within a memory budget) for the restore itself.
 */
export async function planRestore(repo: BackupRepository, scope: RestoreScope): Promise<RestorePlan> {
  const reader = repo.withTarget(new CachedReadTarget(repo.target, CACHE_BYTES));
  const indexes = scope.userIds.length ? await Promise.all(scope.userIds.map((id) => repo.userIndex(id))) : [...(await repo.allUserIndexes()).values()];
  const full = scope.userIds.length === 0;
  const unreadable: RestorePlan['unreadable'] = [];
  let backupServer: BackupServer | null = null;
  const replayed = new Map<string, ReplayedUser>();
  let replayedBytes = 0;
  const planned = await mapBounded(indexes, PLAN_PARALLEL, async (index): Promise<PlannedUser | null> => {
    if (index.segments.length === 0 && index.snapshots.length === 0) return null;
    let seq: number;
    let state;
    try {
      seq = scope.at ? await seqAt(reader, index, scope.at) : Number.MAX_SAFE_INTEGER;
      if (seq === 0) return null;
      const whole = replayedBytes < REPLAYED_BYTES;
      const spy = watching(reader, (w) => (backupServer = noteWriter(backupServer, w)));
      state = await replayUser(spy, index, { seq, collections: whole ? undefined : new Set() });
      if (whole) {
        replayed.set(index.userId, state);
        for (const i of state.items.values()) replayedBytes += 300 + (i.content?.length ?? 0);
        for (const r of state.revisions) replayedBytes += 300 + (r.content?.length ?? 0);
      }
    } catch (e) {
      unreadable.push({ userId: index.userId, problem: (e as Error).message });
      return null;
    }
    if (!state.account) return null;
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
    return { userId: index.userId, name: state.account.user.name, seq: state.seq, index, kinds, account };
  });
  const users = planned.filter((u): u is PlannedUser => u !== null);
  let bytes = 0;
  for (const u of users) bytes += u.index.segments.reduce((n, s) => n + s.size, 0) + u.index.snapshots.reduce((n, s) => n + s.size, 0);
  const tasks = orderTasks(
    users.flatMap((u) => [...u.kinds].map(([kind, cols]) => ({ userId: u.userId, kind, items: cols.reduce((n, c) => n + c.count, 0) }))),
    scope.priority,
    scope.categories,
  );
  return { scope, users, tasks, items: tasks.reduce((n, t) => n + t.items, 0), bytes, unreadable, backupServer: full ? backupServer : null, reader, replayed };
}
