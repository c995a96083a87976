// Plans one user of a restore: the restore point, the replayed state and what each kind holds; and
// validates one kind of a replayed user before it is written.
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import type { SegmentPayload, SnapshotPayload, WriterIdentity } from '../backup/repository-format.js';
import { checkReplayed, type ReplayedUser, replayUser } from '../backup/replay.js';
import type { Kind } from '../core/kinds.js';
import type { Collection, StoredItem } from '../core/model.js';
import type { RestoredAccount } from '../core/ports/record-store.js';
import { seqAt } from './point-in-backup.js';
import type { BackupServer, PlannedUser, RestoreScope } from './restore-planner.js';

/** What planning found for one user. */
export interface UserPlan {
  /** Null when there is nothing to restore for this user (no objects, nothing by then, no account). */
  user: PlannedUser | null;
  /** The user replayed whole (null when replayed without collection data, or not planned). */
  state: ReplayedUser | null;
  /** Set when the user's backup could not be read far enough to plan them. */
  problem?: string;
  /** The newest writer among the objects read. */
  writer: BackupServer | null;
}

/** Folds one writer into the backup-wide answer. */
export function noteWriter(acc: BackupServer | null, w: (WriterIdentity & { at: string }) | null): BackupServer | null {
  if (!w) return acc;
  if (!acc) return { id: w.id, epoch: w.epoch, maxEpoch: w.epoch, at: w.at };
  const newer = w.at > acc.at;
  return { id: newer ? w.id : acc.id, epoch: newer ? w.epoch : acc.epoch, at: newer ? w.at : acc.at, maxEpoch: Math.max(acc.maxEpoch, w.epoch) };
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

/** One kind's slice of a replayed user: its collections as recorded, and its item rows. */
export function categoryOf(state: ReplayedUser, collections: ReadonlySet<string>): { mine: Map<string, Collection>; items: StoredItem[] } {
  const mine = new Map([...state.collections].filter(([id]) => collections.has(id)));
  const items: StoredItem[] = [];
  for (const i of state.items.values()) if (collections.has(i.collection)) items.push(i);
  return { mine, items };
}

/** Validation before serving: the kind's replayed items hash to their hashes, and its collections' counts and digests are the recorded ones. */
export function checkCategory(state: ReplayedUser, collections: ReadonlySet<string>): string[] {
  const { mine, items } = categoryOf(state, collections);
  return checkReplayed({ ...state, collections: mine, items: new Map(items.map((i) => [`${i.collection}\u0000${i.id}`, i])) });
}

/**
 * Plans one user: the sequence number at `scope.at` (or the newest), the user replayed (`whole`:
 * with every collection's data; else only the manifest: account, collections and counts).
 */
export async function planUser(reader: BackupRepository, index: UserIndex, scope: RestoreScope, whole: boolean): Promise<UserPlan> {
  let writer: BackupServer | null = null;
  if (index.segments.length === 0 && index.snapshots.length === 0) return { user: null, state: null, writer };
  let state: ReplayedUser;
  try {
    const seq = scope.at ? await seqAt(reader, index, scope.at) : Number.MAX_SAFE_INTEGER;
    if (seq === 0) return { user: null, state: null, writer };
    const spy = watching(reader, (w) => (writer = noteWriter(writer, w)));
    state = await replayUser(spy, index, { seq, collections: whole ? undefined : new Set() });
  } catch (e) {
    return { user: null, state: null, writer, problem: (e as Error).message };
  }
  if (!state.account) return { user: null, state: null, writer };
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
    davProperties: state.davProperties,
    seq: state.seq,
  };
  const user: PlannedUser = { userId: index.userId, name: state.account.user.name, seq: state.seq, index, kinds, account };
  return { user, state: whole ? state : null, writer };
}
