// Worker thread of a bulk restore: reads users' backup objects from a local directory, replays and
// validates them per category, and sends the validated rows back (the main thread writes them).
import { serialize } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { BackupRepository, type UserIndex } from '../backup/repository.js';
import type { RepositoryConfig } from '../backup/repository-format.js';
import { FileTarget } from '../backup/targets/file/file-target.js';
import type { Kind } from '../core/kinds.js';
import { blockingReads } from './blocking-reads.js';
import type { BulkReply, BulkRequest, CategoryOutcome, DecodedUnit, PackedUnits, UserSummary } from './bulk-pool.js';
import { decodeCategory, photoBlobs } from './fresh-rows.js';
import { listUsersSync } from './list-users.js';
import { planUser } from './plan-user.js';
import type { RestoreScope } from './restore-planner.js';

interface Setup {
  repoRoot: string;
  config: RepositoryConfig;
  key: Uint8Array | null;
  scope: RestoreScope;
}

const setup = workerData as Setup;
const target = new FileTarget(setup.repoRoot);
// Synchronous reads: this thread has nothing else to do meanwhile.
const repo = new BackupRepository(blockingReads(target) ?? target, setup.config, setup.key ? Buffer.from(setup.key) : null);

/** Milliseconds spent reading, replaying and validating users (for probes). */
let decodeMs = 0;

/** Reads, replays and validates one user, counting the time as decoding. */
async function decode(index: UserIndex): ReturnType<typeof planUser> {
  const t0 = performance.now();
  const r = await planUser(repo, index, setup.scope, true);
  decodeMs += performance.now() - t0;
  return r;
}

/**
 * Decodes users: the rows of `kinds[0]` (unless it is photos), and of later kinds when `keep`,
 * packed per kind (else they are left for later). Users given by key are listed here first (synchronous directory reads: a few hundred ms
 * for 10,000 users, off the thread that writes).
 */
async function first(given: UserIndex[] | { keys: string[] }, kinds: Kind[], keep: boolean): Promise<BulkReply> {
  const users = Array.isArray(given) ? given : [...listUsersSync(repo, given.keys).values()];
  const summaries: UserSummary[] = [];
  const units: DecodedUnit[] = [];
  const outcomes: CategoryOutcome[] = [];
  // Photos are never written with the accounts: their bytes must be in the blob store first.
  const now = kinds[0] === 'photos' ? null : kinds[0];
  const later = new Map<Kind, DecodedUnit[]>();
  for (const index of users) {
    const r = await decode(index);
    const summary: UserSummary = { userId: index.userId, index, user: r.user, writer: r.writer, photos: [] };
    if (r.problem !== undefined) summary.problem = r.problem;
    summaries.push(summary);
    if (!r.user || !r.state) continue;
    summary.photos = photoBlobs(r.state);
    for (const [n, kind] of kinds.entries()) {
      if (!r.user.kinds.has(kind)) continue;
      if (n > 0 && !keep) {
        outcomes.push({ userId: index.userId, name: r.user.name, kind, state: 'later', inserted: 0, live: 0 });
        continue;
      }
      const t1 = performance.now();
      const unit = { userId: index.userId, name: r.user.name, category: decodeCategory(r.state, kind) };
      if (kind === now) units.push(unit);
      else {
        if (!later.has(kind)) later.set(kind, []);
        later.get(kind)!.push(unit);
      }
      decodeMs += performance.now() - t1;
    }
  }
  const t2 = performance.now();
  const packs: PackedUnits[] = [...later].map(([kind, list]) => ({ kind, userIds: list.map((u) => u.userId), packed: serialize(list) }));
  decodeMs += performance.now() - t2;
  return { users: summaries, units, outcomes, packs };
}

/** Decodes users again for one kind. */
async function again(users: UserIndex[], kind: Kind): Promise<BulkReply> {
  const units: DecodedUnit[] = [];
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
  return { units, outcomes };
}

// One request at a time, in the order sent.
let queue: Promise<unknown> = Promise.resolve();
parentPort!.on('message', (req: BulkRequest | { type: 'close' }) => {
  if (req.type === 'close') {
    void queue.finally(() => parentPort!.close());
    return;
  }
  queue = queue.then(() =>
    (req.type === 'first' ? first(req.users, req.kinds, req.keep) : again(req.users, req.kind)).then(
      // Packed bytes are moved, not copied, when they own their whole buffer.
      (reply) => parentPort!.postMessage({ ...reply, id: req.id, timing: { decodeMs } }, (reply.packs ?? []).flatMap((p) => (p.packed.byteOffset === 0 && p.packed.byteLength === p.packed.buffer.byteLength ? [p.packed.buffer as ArrayBuffer] : []))),
      (e: Error) => parentPort!.postMessage({ id: req.id, units: [], outcomes: [], error: e.message }),
    ),
  );
});
