// Full restore from a local backup directory into a SQLite store, in bulk: users decoded and
// validated once on worker threads, written many users per transaction in priority order.
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import { restorePath } from '../backup/replay.js';
import { takeRestoreLease } from '../backup/restore-lease.js';
import type { Kind } from '../core/kinds.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore, ServerIdentity } from '../core/ports/record-store.js';
import { SqliteRecordStore } from '../store/sqlite/record-store.js';
import { BulkPool, type BulkReply, type UserSummary } from './bulk-pool.js';
import { listUserIndexes, listUserIndexesSync } from './list-users.js';
import { PhotoPrefetch } from './photo-prefetch.js';
import { DEFAULT_RESTORE_CONCURRENCY, emptyRestoreReport, executeRestore, type RestoreReport } from './restore-executor.js';
import { startRestoredEpoch } from './restore-identity.js';
import { type BackupServer, type PlannedUser, probeBackupServer, type RestorePlan, type RestoreScope } from './restore-planner.js';

/** Users per decoding request (and so per transaction of the first kind, with their accounts). */
const CHUNK_USERS = 128;
/** Requests outstanding per thread: a thread never waits for its next request. */
const REQUESTS_PER_THREAD = 2;
/**
 * Worker threads by default. One: a single writer connection keeps its page cache (a second
 * connection's commits make SQLite drop it), and on 2 cores under load one thread took ~20 % less
 * CPU and ~20 % less time than two (bench/restore-probe.ts, THREADS=1/2 alternated); its fsyncs
 * run on the threadpool while it decodes, and photos and checkpoints use the other core.
 */
const DEFAULT_THREADS = 1;
/** Memory (estimated, over all threads) for rows of later kinds kept from the first decoding; past it, users are decoded again per kind. */
const KEPT_BYTES = 512 * 1024 * 1024;

export interface BulkRestoreOptions {
  now?: () => string;
  /** Worker threads (default 1; more decode in parallel but take turns writing). */
  threads?: number;
  /** Override of the memory budget for kept rows (tests). */
  keptBytes?: number;
  /** Called as categories are written: live items done, and known so far. */
  onProgress?: (done: number, known: number) => void;
}

export interface BulkRestoreResult {
  report: RestoreReport;
  /** The server the backup belongs to, from every object read (null: a partial restore or an empty backup). */
  backupServer: BackupServer | null;
  /** Where each worker thread's time went (ms): decoding and validating, waiting for the write lock, writing, syncing. */
  threadMs: Array<BulkReply['timing']>;
}

/** True when {@link bulkRestore} can run: the backup is a local directory and the store SQLite. */
export function canRestoreInBulk(repo: BackupRepository, store: RecordStore): store is SqliteRecordStore {
  return repo.target.localPath() !== null && store instanceof SqliteRecordStore;
}

/** The newer writer of two, with the highest epoch of both. */
function mergeServers(a: BackupServer | null, b: BackupServer | null): BackupServer | null {
  if (!a || !b) return a ?? b;
  const newer = b.at > a.at ? b : a;
  return { id: newer.id, epoch: newer.epoch, at: newer.at, maxEpoch: Math.max(a.maxEpoch, b.maxEpoch) };
}

/**
 * Restores every user of `scope` as `executeRestore` does — accounts, then each kind for every
 * user in priority order, each category validated against the backup's digests before it is
 * written and quarantined otherwise, never overwriting a newer write — but built for a large
 * backup restored into an empty (or partly restored) store:
 *
 * - Worker threads read, replay and validate each user once and write what validated through
 *   connections of their own (taking turns on the write lock): nothing crosses threads but a
 *   summary per user. The rows of later kinds stay in the worker that decoded them (within a
 *   memory budget; users beyond it are decoded again in their kind's turn).
 * - A category whose collections hold nothing yet is written straight, many users per transaction
 *   and one fsync per transaction (SQLite `synchronous = FULL` on those connections). Whatever is
 *   not fresh — a device wrote, an interrupted run got there first — goes through `executeRestore`
 *   item by item at the end of that kind's turn, so every user's kind is back before the next starts.
 * - Accounts are written with the first kind, in the same transactions (each user's account first).
 * - Photo bytes are copied on a worker thread from the start (into a directory blob store; any
 *   other goes item by item); a photo becomes visible only with its photo item, written in the
 *   photo kind's turn once its bytes are durable in the blob store.
 *
 * Durable when it resolves; idempotent, and resumable after an interruption.
 */
export async function bulkRestore(
  repo: BackupRepository,
  store: SqliteRecordStore,
  blobs: BlobStore,
  scope: RestoreScope,
  options: BulkRestoreOptions = {},
): Promise<BulkRestoreResult> {
  const started = Date.now();
  const now = options.now ?? (() => new Date().toISOString());
  const kinds = scope.priority.filter((k) => scope.categories.includes(k));
  const perTransaction = Math.max(1, Math.min(scope.concurrency ?? DEFAULT_RESTORE_CONCURRENCY, DEFAULT_RESTORE_CONCURRENCY));
  const chunk = Math.min(perTransaction, CHUNK_USERS);
  const report = emptyRestoreReport(0);
  // Synchronous directory reads: nothing else runs on this thread until the workers start.
  const indexes = scope.userIds.length ? await Promise.all(scope.userIds.map((id) => repo.userIndex(id))) : [...(listUserIndexesSync(repo) ?? (await listUserIndexes(repo))).values()];
  // Pin every object this restore may read (the newest state's path covers any earlier point's).
  try {
    const objects = indexes.flatMap((index) => {
      const p = restorePath(index);
      return [...(p.snapshot ? [p.snapshot] : []), ...p.segments];
    });
    report.lease = await takeRestoreLease(repo, objects, `restore of ${indexes.length} user(s)`);
  } catch (e) {
    report.lease = null;
    report.leaseError = (e as Error).message;
  }

  const threads = Math.max(1, options.threads ?? DEFAULT_THREADS);
  const pool = new BulkPool(repo, { scope, dbPath: store.path, threads, perTransaction, keptBytes: options.keptBytes ?? KEPT_BYTES });
  const photos = kinds.includes('photos') ? PhotoPrefetch.start(repo, blobs, [], true) : null;
  let backupServer: BackupServer | null = null;
  let done = 0;
  let known = 0;
  const users = new Map<string, PlannedUser>();
  const photoUsers = new Map<string, string[]>();
  const later = new Map<Kind, UserIndex[]>(kinds.map((k) => [k, []]));
  const notFresh = new Map<Kind, PlannedUser[]>(kinds.map((k) => [k, []]));

  const arrived = (s: UserSummary) => {
    backupServer = mergeServers(backupServer, s.writer);
    if (s.problem !== undefined) {
      for (const kind of kinds) report.quarantined.push({ userId: s.userId, user: s.userId, kind, problems: [s.problem] });
      return;
    }
    const user = s.user;
    if (!user) return;
    users.set(user.userId, user);
    report.users++;
    for (const kind of kinds) for (const c of user.kinds.get(kind) ?? []) known += c.count;
    if (s.photos.length > 0) {
      photoUsers.set(user.userId, s.photos);
      photos?.add(s.photos);
    }
  };
  const settle = (reply: BulkReply) => {
    for (const s of reply.users ?? []) arrived(s);
    for (const o of reply.outcomes) {
      if (o.state === 'written') {
        report.items.inserted += o.inserted;
        done += o.live;
      } else if (o.state === 'quarantined') report.quarantined.push({ userId: o.userId, user: o.name, kind: o.kind, problems: o.problems ?? [] });
      else if (o.state === 'notFresh') notFresh.get(o.kind)!.push(users.get(o.userId)!);
      else later.get(o.kind)!.push(users.get(o.userId)!.index);
    }
    options.onProgress?.(done, known);
  };

  /** Sends requests for `list` in chunks, a few outstanding per thread, settling replies as they come. */
  const inChunks = async (list: UserIndex[], payload: (users: UserIndex[]) => Parameters<BulkPool['send']>[0]) => {
    const waiting: Promise<void>[] = [];
    for (let i = 0; i < list.length; i += chunk) {
      waiting.push(pool.send(payload(list.slice(i, i + chunk))).then(settle));
      if (waiting.length >= threads * REQUESTS_PER_THREAD) await waiting.shift();
    }
    await Promise.all(waiting);
  };

  /** What was not fresh goes through the item-by-item restore (which keeps newer writes). */
  const restoreNotFresh = async (kind: Kind): Promise<void> => {
    const list = notFresh.get(kind)!;
    if (list.length === 0) return;
    const tasks = list.map((u) => ({ userId: u.userId, kind, items: (u.kinds.get(kind) ?? []).reduce((n, c) => n + c.count, 0) }));
    const plan: RestorePlan = {
      scope: { ...scope, userIds: list.map((u) => u.userId), categories: [kind] },
      users: list,
      tasks,
      items: tasks.reduce((n, t) => n + t.items, 0),
      bytes: 0,
      unreadable: [],
      backupServer: null,
    };
    const r = await executeRestore(repo, store, blobs, plan, { now });
    for (const k of Object.keys(r.items) as Array<keyof typeof r.items>) report.items[k] += r.items[k];
    report.blobs += r.blobs;
    report.quarantined.push(...r.quarantined);
    done += plan.items;
    options.onProgress?.(done, known);
  };

  try {
    for (const [n, kind] of kinds.entries()) {
      // The first kind's turn decodes everyone and writes the accounts too.
      const kindStarted = n === 0 ? started : Date.now();
      if (n === 0) await inChunks(indexes, (list) => ({ type: 'first', users: list, kinds }));
      // The first kind is written with the accounts, unless it is photos (their bytes come first).
      if (n > 0 || kind === 'photos') {
        const skip = kind === 'photos' ? await withoutPhotoBytes() : [];
        for (const reply of await pool.all({ type: 'write', kind, skip })) settle(reply);
        const skipped = new Set(skip);
        await inChunks(later.get(kind)!.filter((i) => !skipped.has(i.userId)), (list) => ({ type: 'again', users: list, kind }));
      }
      await restoreNotFresh(kind);
      report.phaseMs[kind] = Date.now() - kindStarted;
      if (kind === 'contacts') report.contactsBackMs = Date.now() - started;
    }
  } finally {
    await pool.close();
    report.blobs += photos?.copied ?? 0;
    await photos?.close();
  }
  report.allBackMs = Date.now() - started;
  const restored = report.items.inserted + report.items.replaced + report.items.unchanged + report.items.keptNewer;
  report.itemsPerSecond = restored / Math.max(0.001, report.allBackMs / 1000);
  return { report, backupServer: scope.userIds.length === 0 ? backupServer : null, threadMs: pool.timing };

  /**
   * Photo items become visible only once their bytes are durable in the blob store: waits for the
   * copying thread, and returns the users whose bytes are still missing (they go item by item,
   * which copies, validates and quarantines).
   */
  async function withoutPhotoBytes(): Promise<string[]> {
    const skip: string[] = [];
    const all = [...photoUsers];
    await photos?.whenDone(all.flatMap(([, hashes]) => hashes));
    await Promise.all(
      all.map(async ([userId, hashes]) => {
        const present = photos ? await Promise.all(hashes.map((h) => blobs.stat(h))) : [null];
        if (present.every((p) => p !== null)) return;
        skip.push(userId);
        notFresh.get('photos')!.push(users.get(userId)!);
      }),
    );
    return skip;
  }
}

/**
 * The offline `keepsake restore` in bulk: a new epoch first (a store with no user yet takes the
 * server id of the backup, read from a few users' newest objects, as an online restore does), then
 * {@link bulkRestore}. Every object read tells its writer: if they name a newer server or a higher
 * epoch than those few did, the identity is set again at the end (nothing is served meanwhile).
 */
export async function restoreAllInBulk(
  repo: BackupRepository,
  store: SqliteRecordStore,
  blobs: BlobStore,
  scope: RestoreScope,
  options: BulkRestoreOptions = {},
): Promise<{ report: RestoreReport; identity: ServerIdentity }> {
  const empty = scope.userIds.length === 0 && (await store.stats()).users === 0;
  let identity = await startRestoredEpoch(store, empty ? await probeBackupServer(repo) : null);
  const { report, backupServer } = await bulkRestore(repo, store, blobs, scope, options);
  if (empty && backupServer && (backupServer.id !== identity.id || backupServer.maxEpoch >= identity.epoch)) {
    identity = await store.bumpEpoch({ id: backupServer.id, aboveEpoch: backupServer.maxEpoch });
  }
  return { report, identity };
}
