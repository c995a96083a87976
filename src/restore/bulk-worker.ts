// Worker thread of a bulk restore: reads users' backup objects from a local directory, replays and
// validates them per category, and writes what validated into the store on a connection of its own.
import { parentPort, workerData } from 'node:worker_threads';
import { BackupRepository, type UserIndex } from '../backup/repository.js';
import type { RepositoryConfig } from '../backup/repository-format.js';
import { FileTarget } from '../backup/targets/file/file-target.js';
import type { Kind } from '../core/kinds.js';
import type { RestoredAccount } from '../core/ports/record-store.js';
import { BulkRestoreWriter, restoreFreshCategoryRows } from '../store/sqlite/bulk-restore.js';
import type { StatementCache } from '../store/sqlite/statements.js';
import { blockingReads } from './blocking-reads.js';
import type { BulkReply, BulkRequest, CategoryOutcome, UserSummary } from './bulk-pool.js';
import { type DecodedCategory, decodeCategory, photoBlobs } from './fresh-rows.js';
import { planUser } from './plan-user.js';
import type { RestoreScope } from './restore-planner.js';

interface Setup {
  repoRoot: string;
  config: RepositoryConfig;
  key: Uint8Array | null;
  scope: RestoreScope;
  dbPath: string;
  lock: SharedArrayBuffer;
  /** Users per transaction when writing kept rows. */
  perTransaction: number;
  /** Memory (estimated) this thread may keep rows of later kinds in. */
  keptBytes: number;
}

const setup = workerData as Setup;
const target = new FileTarget(setup.repoRoot);
// Synchronous reads: this thread has nothing else to do meanwhile.
const repo = new BackupRepository(blockingReads(target) ?? target, setup.config, setup.key ? Buffer.from(setup.key) : null);
const writer = new BulkRestoreWriter(setup.dbPath, new Int32Array(setup.lock));

/** Milliseconds spent reading, replaying and validating users (for probes). */
let decodeMs = 0;

type Unit = { userId: string; name: string; category: DecodedCategory };
/** Rows of later kinds, kept from the first decoding. */
const kept = new Map<Kind, Unit[]>();
let keptBytes = 0;

function writeUnit(q: StatementCache, u: Unit): CategoryOutcome {
  const base = { userId: u.userId, name: u.name, kind: u.category.kind, live: u.category.live };
  const r = restoreFreshCategoryRows(q, u.userId, u.category.rows!);
  return r === null ? { ...base, state: 'notFresh', inserted: 0 } : { ...base, state: 'written', inserted: r.inserted };
}

/**
 * Writes accounts and categories in one transaction; categories that did not validate are
 * quarantined unwritten. If the transaction fails, each account and category is written alone, so
 * one bad category fails only itself (an account that cannot be written fails the restore, as in
 * `executeRestore`).
 */
function writeGroup(accounts: RestoredAccount[], units: Unit[]): CategoryOutcome[] {
  const out: CategoryOutcome[] = [];
  const valid: Unit[] = [];
  for (const u of units) {
    if (u.category.rows) valid.push(u);
    else out.push({ userId: u.userId, name: u.name, kind: u.category.kind, state: 'quarantined', problems: u.category.problems, inserted: 0, live: u.category.live });
  }
  if (accounts.length === 0 && valid.length === 0) return out;
  try {
    return out.concat(
      writer.transaction((q) => {
        for (const a of accounts) writer.restoreAccount(q, a);
        return valid.map((u) => writeUnit(q, u));
      }),
    );
  } catch {
    for (const a of accounts) writer.transaction((q) => writer.restoreAccount(q, a));
    for (const u of valid) {
      try {
        out.push(writer.transaction((q) => writeUnit(q, u)));
      } catch (e) {
        out.push({ userId: u.userId, name: u.name, kind: u.category.kind, state: 'quarantined', problems: [(e as Error).message], inserted: 0, live: u.category.live });
      }
    }
    return out;
  }
}

/** Reads, replays and validates one user, counting the time as decoding. */
async function decode(index: UserIndex): ReturnType<typeof planUser> {
  const t0 = performance.now();
  const r = await planUser(repo, index, setup.scope, true);
  decodeMs += performance.now() - t0;
  return r;
}

/** Decodes users; rows of `kinds[0]` are written with the accounts, later kinds kept (within budget) or left for later. */
async function first(users: UserIndex[], kinds: Kind[]): Promise<BulkReply> {
  const summaries: UserSummary[] = [];
  const accounts: RestoredAccount[] = [];
  const units: Unit[] = [];
  const outcomes: CategoryOutcome[] = [];
  for (const index of users) {
    const r = await decode(index);
    const summary: UserSummary = { userId: index.userId, user: r.user, writer: r.writer, photos: [] };
    if (r.problem !== undefined) summary.problem = r.problem;
    summaries.push(summary);
    if (!r.user || !r.state) continue;
    accounts.push(r.user.account);
    summary.photos = photoBlobs(r.state);
    for (const [n, kind] of kinds.entries()) {
      if (!r.user.kinds.has(kind)) continue;
      if (n > 0 && keptBytes >= setup.keptBytes) {
        outcomes.push({ userId: index.userId, name: r.user.name, kind, state: 'later', inserted: 0, live: 0 });
        continue;
      }
      const t1 = performance.now();
      const unit = { userId: index.userId, name: r.user.name, category: decodeCategory(r.state, kind) };
      decodeMs += performance.now() - t1;
      // Photos are never written here: their bytes must be in the blob store first.
      if (n === 0 && kind !== 'photos') units.push(unit);
      else {
        if (!kept.has(kind)) kept.set(kind, []);
        kept.get(kind)!.push(unit);
        keptBytes += unit.category.bytes;
      }
    }
  }
  outcomes.push(...writeGroup(accounts, units));
  return { users: summaries, outcomes };
}

/** Writes the kept rows of `kind`, a transaction of `perTransaction` users at a time (`skip`: users left to the caller). */
function writeKept(kind: Kind, skip: ReadonlySet<string>): BulkReply {
  const units = (kept.get(kind) ?? []).filter((u) => !skip.has(u.userId));
  kept.delete(kind);
  const outcomes: CategoryOutcome[] = [];
  // All of this thread's transactions of the kind in a row (the other threads have nothing else to do meanwhile).
  writer.exclusive(() => {
    for (let i = 0; i < units.length; i += setup.perTransaction) outcomes.push(...writeGroup([], units.slice(i, i + setup.perTransaction)));
  });
  for (const u of units) keptBytes -= u.category.bytes;
  return { outcomes };
}

/** Decodes users again for one kind and writes it. */
async function again(users: UserIndex[], kind: Kind): Promise<BulkReply> {
  const units: Unit[] = [];
  const outcomes: CategoryOutcome[] = [];
  for (const index of users) {
    const r = await decode(index);
    if (r.problem !== undefined || !r.user || !r.state) {
      // Readable the first time: damage found now quarantines this category only.
      outcomes.push({ userId: index.userId, name: r.user?.name ?? index.userId, kind, state: 'quarantined', problems: [r.problem ?? 'nothing to restore any more'], inserted: 0, live: 0 });
      continue;
    }
    if (r.user.kinds.has(kind)) units.push({ userId: index.userId, name: r.user.name, category: decodeCategory(r.state, kind) });
  }
  outcomes.push(...writeGroup([], units));
  return { outcomes };
}

async function handle(req: BulkRequest): Promise<BulkReply> {
  if (req.type === 'first') return first(req.users, req.kinds);
  if (req.type === 'write') return writeKept(req.kind, new Set(req.skip));
  return again(req.users, req.kind);
}

// One request at a time, in the order sent. A reply goes out once what its request wrote is
// durable; the sync runs on the threadpool while the next request is decoded.
let queue: Promise<unknown> = Promise.resolve();
let syncs: Promise<unknown> = Promise.resolve();
parentPort!.on('message', (req: BulkRequest | { type: 'close' }) => {
  if (req.type === 'close') {
    void queue.then(() => syncs).finally(() => {
      writer.close();
      parentPort!.close();
    });
    return;
  }
  const failed = (e: Error) => parentPort!.postMessage({ id: req.id, outcomes: [], error: e.message });
  queue = queue.then(() =>
    handle(req).then((reply) => {
      const durable = writer.sync().then(() => parentPort!.postMessage({ ...reply, id: req.id, timing: { decodeMs, ...writer.timing } }), failed);
      syncs = Promise.all([syncs, durable]);
    }, failed),
  );
});
