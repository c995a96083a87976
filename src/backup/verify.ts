// Verification: every object's checksum, every reference resolvable, and a real restore of sampled users.
import { randomBytes } from 'node:crypto';
import type { ObjectTypeName } from './object-codec.js';
import { coverageGaps } from './replay.js';
import { type BackupRepository, indexesFromListing, type UserIndex } from './repository.js';
import { type BlobCheck, restoreCheck, type UserVerdict } from './verify-restore.js';
import { describeProblem, startObjectPass, VerifyReadRepository } from './verify-objects.js';
import { names, type CheckpointPayload, type SnapshotPayload, type VerificationPayload, type VerifyProblem } from './repository-format.js';

export interface VerifyOptions {
  /** `full`: every object including photo bytes, every user restored, every snapshot checked. */
  mode: 'full' | 'sample';
  /** Users restored in sample mode (plus every user changed since the last verification). */
  sample: number;
  /** Write the result into the repository (`verifications/…`). Default true. */
  record?: boolean;
  onProgress?(p: { phase: string; done: number; total: number }): void;
  now?(): number;
  /** Worker threads reading a local target (default: one per core, at most 4). */
  threads?: number;
}

/** The result of a verify run. */
export interface VerifyReport extends VerificationPayload {
  target: string;
  users: number;
  /** Users whose data is affected by a problem. */
  affectedUsers: string[];
  seconds: number;
  /** Where the result was recorded, or null. */
  recordedAs: string | null;
}

interface PreviousRun {
  userSeqs: Record<string, number>;
}

/**
 * Verifies one repository. Objects are read back and their checksums checked (photo blobs only
 * in full mode, where their bytes must also hash to their names); references from snapshots to
 * data objects, from users to photo blobs, and from checkpoints to snapshots must resolve; each
 * user's segments must cover every sequence number without a gap; sampled users (every user in
 * full mode) are restored into scratch state whose collection counts and digests must equal what
 * the backup recorded. Every problem names the object and the users it affects.
 */
export async function verifyRepository(repo: BackupRepository, options: VerifyOptions): Promise<VerifyReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const progress = options.onProgress ?? (() => {});
  const problems: VerifyProblem[] = [];
  let objectsChecked = 0;
  let bytesChecked = 0;

  // Every small object is read, hashed and decoded once, and kept decoded for the restores below.
  const decoded = new Map<string, { type: ObjectTypeName; body: Uint8Array }>();
  let cacheBytes = 0;
  const cached = new VerifyReadRepository(repo, decoded);

  const dataUsers = new Map<string, Set<string>>();
  const blobUsers = new Map<string, Set<string>>();
  const addUse = (map: Map<string, Set<string>>, object: string, user: string) => {
    let s = map.get(object);
    if (!s) map.set(object, (s = new Set()));
    s.add(user);
  };
  const badObjects = new Set<string>();
  const fail = (object: string | undefined, users: Iterable<string>, problem: string) => {
    if (object) badObjects.add(object);
    problems.push({ object, users: [...new Set(users)].sort(), problem });
  };

  // Checksums of every object (photo bytes only in full mode); users are attributed further down.
  // Photo bytes are still being hashed on the worker threads while this thread goes on with the
  // references and the restores, which only need the small objects.
  const damaged: Array<{ object: string; problem: string }> = [];
  let done = 0;
  let restored = 0;
  const blobChecks: BlobCheck[] = [];
  // In full mode everyone is restored: a worker restores each user right after reading their
  // directory (when their snapshots keep every collection inline) and sends only its verdict.
  const early = new Set<string>();
  /** Photo blobs each worker-restored snapshot refers to (its manifest stayed on the worker). */
  const snapshotBlobs = new Map<string, string[]>();
  const onTask =
    options.mode === 'full'
      ? (_results: unknown, verdicts: UserVerdict[]) => {
          for (const v of verdicts) {
            early.add(v.userId);
            progress({ phase: 'restores', done: ++restored, total: restored });
            for (const p of v.problems) fail(p.object, [v.userId], p.problem);
            if (v.blobCheck) blobChecks.push(v.blobCheck);
            for (const sn of v.snapshots) snapshotBlobs.set(sn.name, sn.blobRefs);
          }
        }
      : undefined;
  const pass = await startObjectPass(
    repo,
    { checkBlobs: options.mode === 'full', threads: options.threads, restore: options.mode === 'full' },
    (r) => {
      progress({ phase: 'objects', done: ++done, total: done });
      objectsChecked++;
      bytesChecked += r.bytes;
      if (r.problem !== undefined) damaged.push({ object: r.name, problem: r.problem });
      else if (r.body && r.type && cacheBytes < 512 * 1024 * 1024) {
        decoded.set(r.name, { type: r.type, body: r.body });
        cacheBytes += r.body.byteLength;
      }
    },
    onTask,
  );
  const all = pass.listing;
  const present = new Set(all.map((o) => o.name));
  const indexes = indexesFromListing(all);
  for (const d of damaged) badObjects.add(d.object);

  // Who depends on what: snapshot manifests are small, read them all to map data and blobs to users.
  const snapshots = [...indexes.values()].flatMap((i) => i.snapshots);
  done = 0;
  await inParallel(snapshots, 8, async (s) => {
    progress({ phase: 'snapshots', done: done++, total: snapshots.length });
    if (badObjects.has(s.name)) return;
    const refs = snapshotBlobs.get(s.name);
    if (refs) {
      // Restored on a worker: every collection inline, so only its photos are used from outside.
      for (const b of refs) addUse(blobUsers, names.blob(b), s.userId);
      return;
    }
    try {
      const m = await cached.getJson<SnapshotPayload>(s.name, 'snapshot');
      for (const c of m.collections) {
        if (c.object === undefined) continue; // inline in the manifest
        addUse(dataUsers, c.object, s.userId);
        if (!present.has(c.object)) fail(c.object, [s.userId], `missing: snapshot ${s.name} needs it (collection ${c.collection.id})`);
      }
      for (const b of m.blobRefs) addUse(blobUsers, names.blob(b), s.userId);
    } catch (e) {
      fail(s.name, [s.userId], describeProblem(e));
    }
  });

  // Gap-free coverage of each user's log; a missing segment is named from its neighbours.
  const previous = await lastRun(repo);
  for (const index of indexes.values()) {
    for (const [from, to] of coverageGaps(index, index.floor?.seq ?? 0)) {
      const before = index.segments.filter((s) => s.toSeq <= from).reduce((m, s) => Math.max(m, s.n), 0);
      fail(names.segment(index.userId, before + 1, from, to), [index.userId], `missing: no segment holds sequence numbers ${from + 1}..${to}`);
    }
    const numbers = new Set(index.segments.map((s) => s.n));
    const maxN = Math.max(index.floor?.n ?? 0, ...numbers);
    for (let n = (index.floor?.n ?? 0) + 1; n <= maxN; n++) if (!numbers.has(n)) fail(`${names.userPrefix(index.userId)}seg/${String(n).padStart(10, '0')}-…`, [index.userId], `missing: segment number ${n} is absent`);
    const shipped = index.segments.reduce((m, s) => Math.max(m, s.toSeq), index.floor?.seq ?? 0);
    const before = previous?.userSeqs[index.userId];
    if (before !== undefined && shipped < before) {
      fail(undefined, [index.userId], `missing: the last verification saw this user backed up to sequence number ${before}, now only ${shipped} (newest segments deleted)`);
    }
    const snapMax = Math.max(0, ...index.snapshots.map((s) => s.segment));
    if (snapMax > maxN) fail(undefined, [index.userId], `missing: a snapshot was taken at segment ${snapMax} but the newest segment present is ${maxN}`);
  }
  for (const [userId, seq] of Object.entries(previous?.userSeqs ?? {})) {
    if (seq > 0 && !indexes.has(userId)) fail(`${names.userPrefix(userId)}`, [userId], 'missing: every object of this user is gone since the last verification');
  }

  // Checkpoints must point at existing snapshots.
  for (const c of all.filter((o) => o.name.startsWith('checkpoints/'))) {
    try {
      const cp = await cached.getJson<CheckpointPayload>(c.name, 'checkpoint');
      for (const [user, snap] of Object.entries(cp.snapshots)) if (!present.has(snap)) fail(snap, [user], `missing: checkpoint ${c.name} pins it`);
    } catch (e) {
      fail(c.name, [], describeProblem(e));
    }
  }

  // Photos prune removed on purpose (a user's blob refs only grow; their old photos may be gone).
  const pruned = new Set<string>();
  for (const p of all.filter((o) => o.name.startsWith('pruned/'))) {
    try {
      for (const o of (await cached.getJson<{ objects: string[] }>(p.name, 'pruneMark')).objects) pruned.add(o);
    } catch (e) {
      fail(p.name, [], describeProblem(e));
    }
  }

  // Real restores into scratch state.
  const users = [...indexes.values()];
  const chosen = chooseUsers(users, options, previous);
  const userSeqs: Record<string, number> = {};
  for (const i of users) userSeqs[i.userId] = i.segments.reduce((m, s) => Math.max(m, s.toSeq), i.floor?.seq ?? 0);
  const later = chosen.filter((i) => !early.has(i.userId));
  await inParallel(later, 8, async (index) => {
    progress({ phase: 'restores', done: ++restored, total: chosen.length });
    await restoreCheck(cached.forUser(), index, options.mode === 'full', blobChecks, fail);
  });
  // Every photo a restored user refers to must be there, unless prune removed it on purpose; a
  // photo the user has now must be there in any case.
  for (const c of blobChecks) {
    // Who a damaged photo affects: users without a snapshot name their photos only in segments.
    for (const b of c.blobRefs) addUse(blobUsers, names.blob(b), c.userId);
    for (const b of c.blobRefs) if (!present.has(names.blob(b)) && !pruned.has(names.blob(b))) fail(names.blob(b), [c.userId], 'missing: the user refers to this photo');
    const refs = new Set(c.blobRefs);
    for (const b of c.live) if (!present.has(names.blob(b)) && (pruned.has(names.blob(b)) || !refs.has(b))) fail(names.blob(b), [c.userId], 'missing: a photo the user has now needs it');
  }

  // Photo bytes done: every damaged object is named with the users it affects.
  await pass.done;
  for (const d of damaged) fail(d.object, usersOf(d.object, dataUsers, blobUsers), d.problem);

  const at = new Date(now()).toISOString();
  const ok = problems.length === 0;
  const payload: VerificationPayload & { userSeqs: Record<string, number> } = {
    at,
    mode: options.mode,
    ok,
    objectsChecked,
    bytesChecked,
    usersRestored: chosen.length,
    problems,
    userSeqs,
  };
  let recordedAs: string | null = null;
  if (options.record !== false) {
    const name = names.verification(at, randomBytes(3).toString('hex'));
    try {
      await repo.putJson(name, 'verification', payload);
      recordedAs = name;
    } catch {
      recordedAs = null;
    }
  }
  const affected = new Set(problems.flatMap((p) => p.users));
  const { userSeqs: _u, ...report } = payload;
  return { ...report, target: repo.target.description, users: users.length, affectedUsers: [...affected].sort(), seconds: (now() - started) / 1000, recordedAs };
}

function usersOf(object: string, dataUsers: Map<string, Set<string>>, blobUsers: Map<string, Set<string>>): string[] {
  const m = /^users\/([A-Za-z0-9_-]+)\//.exec(object);
  if (m) return [names.userFromKey(m[1])];
  return [...(dataUsers.get(object) ?? blobUsers.get(object) ?? [])];
}

async function lastRun(repo: BackupRepository): Promise<PreviousRun | null> {
  const list = await repo.listNames('verifications/');
  for (const v of list.reverse()) {
    const p = await repo.getJson<PreviousRun>(v.name, 'verification').catch(() => null);
    if (p?.userSeqs) return p;
  }
  return null;
}

/** Full: everyone. Sample: N random users plus every user whose log grew since the last run. */
function chooseUsers(users: UserIndex[], options: VerifyOptions, previous: PreviousRun | null): UserIndex[] {
  if (options.mode === 'full') return users;
  const changed = users.filter((u) => (previous?.userSeqs[u.userId] ?? -1) !== u.segments.reduce((m, s) => Math.max(m, s.toSeq), u.floor?.seq ?? 0));
  const rest = users.filter((u) => !changed.includes(u));
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return [...changed, ...rest.slice(0, Math.max(0, options.sample))];
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
