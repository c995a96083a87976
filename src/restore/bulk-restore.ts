// Full restore from a local backup directory into a SQLite store, in bulk: users decoded and
// validated once on worker threads, written many users per transaction in priority order.
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import { restorePath } from '../backup/replay.js';
import { takeRestoreLease } from '../backup/restore-lease.js';
import type { Kind } from '../core/kinds.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore, RestoredAccount, ServerIdentity } from '../core/ports/record-store.js';
import { SqliteRecordStore } from '../store/sqlite/record-store.js';
import { deserialize } from 'node:v8';
import { BulkPool, type BulkReply, type CategoryOutcome, type DecodedUnit, type PackedUnits, type UserSummary } from './bulk-pool.js';
import { BulkWrites } from './bulk-writes.js';
import { listUserIndexes, userKeysSync } from './list-users.js';
import { PhotoPrefetch } from './photo-prefetch.js';
import { DEFAULT_RESTORE_CONCURRENCY, emptyRestoreReport, executeRestore, type RestoreReport } from './restore-executor.js';
import { adoptedEpochFloor, startRestoredEpoch } from './restore-identity.js';
import { type BackupServer, type PlannedUser, probeBackupServer, type RestorePlan, type RestoreScope } from './restore-planner.js';

/** Users per decoding request (and so per transaction of the first kind, with their accounts). */
const CHUNK_USERS = 128;
/** Requests outstanding per thread: a thread never waits for its next request. */
const REQUESTS_PER_THREAD = 2;
/**
 * Decoding threads by default. Two: decoding everyone is what the contacts' turn waits for, and a
 * second thread brought every user's contacts back ~10 % sooner and the whole restore ~6 % (median
 * of 3 alternated probe runs on 2 shared cores, 2026-12-07), although the main thread writes, photos
 * are copied and fsyncs run on the same cores (bench/restore-probe.ts).
 */
const DEFAULT_THREADS = 2;
/** Memory for the (packed) rows of later kinds kept from the first decoding; past it, users are decoded again per kind. */
const KEPT_BYTES = 512 * 1024 * 1024;

export interface BulkRestoreOptions {
  now?: () => string;
  /** Decoding threads (default 1). */
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
  /** Where each decoding thread's time went, then the writer's (ms): decoding and validating; writing, syncing. */
  threadMs: Array<Record<string, number> | undefined>;
}

/** True when {@link bulkRestore} can run: the backup is a local directory and the store SQLite. */
export function canRestoreInBulk(repo: BackupRepository, store: RecordStore): store is SqliteRecordStore {
  return repo.target.localPath() !== null && store instanceof SqliteRecordStore;
}

/** `list` in consecutive slices of `size`. */
function* slices<T>(list: T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
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
 * - Worker threads read, replay and validate each user once and send back compact rows of what
 *   validated; this thread writes them on one connection of its own while they decode the next
 *   users (so decoding and writing use both cores, and the writer keeps its page cache). The rows
 *   of later kinds are kept here, serialized, for their kind's turn (within a memory budget; users
 *   beyond it are decoded again then). Each thread lists the users it is sent, a chunk at a time.
 * - A category whose collections hold nothing yet is written straight, many users per transaction
 *   and one fdatasync of the WAL per transaction (on the threadpool; its outcome counts once it is
 *   durable). Whatever is
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
  // Users sent to the decoding threads by the keys of their directories, a chunk at a time: each
  // thread lists its users (synchronous directory reads) before decoding them, so decoding starts at
  // once instead of after a listing of everyone (~1 s for 10,000 users), and the listing stays off
  // this thread, which writes.
  const keys = scope.userIds.length ? null : userKeysSync(repo);
  /** Every user listed so far (for the lease), as the threads report them when they were given keys. */
  const indexes: UserIndex[] = [];
  if (!keys) indexes.push(...(scope.userIds.length ? await Promise.all(scope.userIds.map((id) => repo.userIndex(id))) : (await listUserIndexes(repo)).values()));
  const firstChunks = function* (): Generator<UserIndex[] | { keys: string[] }> {
    if (!keys) return yield* slices(indexes, chunk);
    for (let i = 0; i < keys.length; i += chunk) yield { keys: keys.slice(i, i + chunk) };
  };
  /**
   * Pins every object this restore may read (the newest state's path covers any earlier point's),
   * once everyone is listed: a prune can then touch nothing the later kinds read again. (Objects
   * are read moments after they are listed; a prune keeps every object for a grace period.)
   */
  const lease = async (): Promise<void> => {
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
  };

  const threads = Math.max(1, options.threads ?? DEFAULT_THREADS);
  const budget = options.keptBytes ?? KEPT_BYTES;
  const pool = new BulkPool(repo, { scope, threads });
  const writes = new BulkWrites(store.path);
  const photos = kinds.includes('photos') ? PhotoPrefetch.start(repo, blobs, [], true) : null;
  let backupServer: BackupServer | null = null;
  let done = 0;
  let known = 0;
  const users = new Map<string, PlannedUser>();
  const photoUsers = new Map<string, string[]>();
  const later = new Map<Kind, UserIndex[]>(kinds.map((k) => [k, []]));
  const notFresh = new Map<Kind, PlannedUser[]>(kinds.map((k) => [k, []]));
  /** Rows of later kinds decoded with the first, packed, waiting for their kind's turn. */
  const kept = new Map<Kind, PackedUnits[]>(kinds.map((k) => [k, []]));
  let keptBytes = 0;
  /** Every fdatasync in flight (the writer closes only once they are done). */
  const syncing = new Set<Promise<void>>();

  const arrived = (s: UserSummary) => {
    if (keys) indexes.push(s.index);
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
  const settle = (outcomes: CategoryOutcome[]) => {
    for (const o of outcomes) {
      if (o.state === 'written') {
        report.items.inserted += o.inserted;
        done += o.live;
      } else if (o.state === 'quarantined') report.quarantined.push({ userId: o.userId, user: o.name, kind: o.kind, problems: o.problems ?? [] });
      else if (o.state === 'notFresh') notFresh.get(o.kind)!.push(users.get(o.userId)!);
      else later.get(o.kind)!.push(users.get(o.userId)!.index);
    }
    options.onProgress?.(done, known);
  };
  /** Writes a group in one transaction; its outcomes count once it is durable. */
  const write = (accounts: RestoredAccount[], units: DecodedUnit[]): Promise<void> => {
    const outcomes = writes.writeGroup(accounts, units);
    const durable = writes.sync();
    syncing.add(durable);
    return durable.then(() => {
      syncing.delete(durable);
      settle(outcomes);
    });
  };
  /** The first decoding: accounts and the first kind written at once, later kinds kept for their turn. */
  const firstDecoded = (reply: BulkReply): Promise<void> => {
    for (const s of reply.users ?? []) arrived(s);
    settle(reply.outcomes);
    for (const p of reply.packs ?? []) {
      kept.get(p.kind)!.push(p);
      keptBytes += p.packed.byteLength;
    }
    const accounts = (reply.users ?? []).flatMap((s) => (s.user ? [s.user.account] : []));
    return write(accounts, reply.units);
  };
  const decodedAgain = (reply: BulkReply): Promise<void> => {
    settle(reply.outcomes);
    return write([], reply.units);
  };

  /**
   * Sends requests for `list` in chunks, a few outstanding per thread, handling replies as they
   * come; resolves once every reply is handled and durable. The next request goes out as soon as a
   * reply is written, not once it is durable: the threads decode on while the fdatasync runs.
   */
  const inChunks = async <T extends UserIndex[] | { keys: string[] }>(chunks: Iterable<T>, payload: (users: T) => Parameters<BulkPool['send']>[0], handle: (r: BulkReply) => Promise<void>) => {
    const decoding: Promise<void>[] = [];
    const durable: Promise<void>[] = [];
    for (const list of chunks) {
      if ((Array.isArray(list) ? list : list.keys).length === 0) continue;
      decoding.push(pool.send(payload(list)).then((reply) => void durable.push(handle(reply))));
      if (decoding.length >= threads * REQUESTS_PER_THREAD) await decoding.shift();
    }
    await Promise.all(decoding);
    await Promise.all(durable);
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
      if (n === 0) {
        await inChunks(firstChunks(), (list) => ({ type: 'first', users: list, kinds, keep: keptBytes < budget }), firstDecoded);
        await lease();
      }
      // The first kind is written with the accounts, unless it is photos (their bytes come first).
      if (n > 0 || kind === 'photos') {
        const skipped = new Set(kind === 'photos' ? await withoutPhotoBytes() : []);
        const packs = kept.get(kind)!;
        kept.set(kind, []);
        // Unpacked a transaction's worth at a time: the rows live only until they are written.
        const written: Promise<void>[] = [];
        let group: DecodedUnit[] = [];
        for (const p of packs) {
          keptBytes -= p.packed.byteLength;
          if (p.userIds.every((id) => skipped.has(id))) continue;
          for (const u of deserialize(p.packed) as DecodedUnit[]) if (!skipped.has(u.userId)) group.push(u);
          if (group.length >= perTransaction) {
            written.push(write([], group));
            group = [];
          }
        }
        if (group.length > 0) written.push(write([], group));
        await Promise.all(written);
        await inChunks(slices(later.get(kind)!.filter((i) => !skipped.has(i.userId)), chunk), (list) => ({ type: 'again', users: list, kind }), decodedAgain);
      }
      await restoreNotFresh(kind);
      report.phaseMs[kind] = Date.now() - kindStarted;
      if (kind === 'contacts') report.contactsBackMs = Date.now() - started;
    }
  } finally {
    await pool.close();
    await Promise.allSettled([...syncing]);
    writes.close();
    report.blobs += photos?.copied ?? 0;
    await photos?.close();
  }
  report.allBackMs = Date.now() - started;
  const restored = report.items.inserted + report.items.replaced + report.items.unchanged + report.items.keptNewer;
  report.itemsPerSecond = restored / Math.max(0.001, report.allBackMs / 1000);
  return { report, backupServer: scope.userIds.length === 0 ? backupServer : null, threadMs: [...pool.timing, writes.timing] };

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
    identity = await store.bumpEpoch({ id: backupServer.id, aboveEpoch: adoptedEpochFloor(backupServer.maxEpoch) });
  }
  return { report, identity };
}
