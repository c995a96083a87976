// Verification's restores: a user rebuilt from the backup must match what the backup recorded.
// Run on the main thread, or on a verification worker right after it read the user's directory.
import { isContentHash } from '../core/hash.js';
import { isBackupError } from './backup-error.js';
import type { ObjectTypeName } from './object-codec.js';
import { checkReplayed, loadSnapshot, type ReplayedUser, replayUser, restorePath } from './replay.js';
import { BackupError } from './backup-error.js';
import { type BackupRepository, indexesFromListing, type UserIndex } from './repository.js';
import type { SnapshotPayload } from './repository-format.js';
import { describeProblem, type ObjectCheck } from './verify-objects.js';

/** Photos a restored user refers to, checked against the listing once every restore is done. */
export interface BlobCheck {
  userId: string;
  blobRefs: string[];
  live: string[];
}

export type FailFn = (object: string | undefined, users: Iterable<string>, problem: string) => void;

/**
 * Restores one user from the newest snapshot plus later segments and compares it with what the
 * backup recorded; in full mode also from the change log alone, and every other snapshot alone.
 */
export async function restoreCheck(repo: BackupRepository, index: UserIndex, full: boolean, blobChecks: BlobCheck[], fail: FailFn): Promise<void> {
  const user = [index.userId];
  try {
    const state = await replayUser(repo, index);
    for (const p of checkReplayed(state)) fail(undefined, user, `restore of the newest state: ${p}`);
    blobChecks.push({ userId: index.userId, blobRefs: state.blobRefs, live: livePhotoBlobs(state) });
    if (!state.account) fail(undefined, user, 'restore has no account record');
  } catch (e) {
    fail(isBackupError(e) ? e.object : undefined, user, `restore failed: ${describeProblem(e)}`);
  }
  if (!full) return;
  // The newest state was restored from the segments alone already (no snapshot, never pruned).
  const newest = restorePath(index);
  if (newest.snapshot === null && !index.floor) return;
  // From the segments alone (no snapshot), and every snapshot on its own.
  try {
    // After a prune, the log starts at the oldest snapshot at or above the floor.
    const floorSeq = index.floor?.seq ?? 0;
    const base = index.floor ? index.snapshots.filter((s) => s.seq >= floorSeq).sort((a, b) => a.seq - b.seq).slice(0, 1) : [];
    const fromLog = await replayUser(repo, { ...index, snapshots: base });
    for (const p of checkReplayed(fromLog)) fail(undefined, user, `restore from the change log alone: ${p}`);
  } catch (e) {
    fail(isBackupError(e) ? e.object : undefined, user, `restore from the change log failed: ${describeProblem(e)}`);
  }
  // The snapshot the newest restore started from, with no segment after it, was just checked whole.
  for (const s of index.snapshots) {
    if (s.name === newest.snapshot && newest.segments.length === 0) continue;
    try {
      const snap = await loadSnapshot(repo, s.name);
      for (const p of checkReplayed(snap)) fail(s.name, user, `snapshot: ${p}`);
    } catch (e) {
      fail(isBackupError(e) ? e.object : s.name, user, `snapshot unreadable: ${describeProblem(e)}`);
    }
  }
}

/** Blobs of the photos live in a restored state (what a restore copies back). */
function livePhotoBlobs(state: ReplayedUser): string[] {
  const out: string[] = [];
  for (const item of state.items.values()) {
    if (item.deleted || item.content === null || !item.content.includes('"blob"')) continue;
    try {
      const blob = (JSON.parse(item.content) as { blob?: unknown }).blob;
      if (typeof blob === 'string' && isContentHash(blob)) out.push(blob);
    } catch {
      // not a photo
    }
  }
  return out;
}

/** What a verification worker found restoring one user whose objects it had just read (full mode). */
export interface UserVerdict {
  userId: string;
  problems: Array<{ object?: string; problem: string }>;
  blobCheck: BlobCheck | null;
  /** Per snapshot of the user: the photo blobs it refers to (who is affected if one is damaged). */
  snapshots: Array<{ name: string; blobRefs: string[] }>;
}

/**
 * Restores (full mode) the one user whose whole directory `results` holds, from the decoded
 * objects alone, when it can: every object intact and every snapshot keeping its collections
 * inline. Returns null otherwise (the main thread restores that user, reading what it needs).
 */
export async function restoreFromDecoded(results: readonly ObjectCheck[]): Promise<UserVerdict | null> {
  if (results.length === 0 || results.some((r) => r.problem !== undefined || !r.body || !r.type)) return null;
  const listing = results.map((r) => ({ name: r.name, size: r.bytes })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const indexes = indexesFromListing(listing);
  if (indexes.size !== 1) return null;
  const index = [...indexes.values()][0];
  const parsed = new Map<string, { type: ObjectTypeName; value: unknown }>();
  for (const r of results) {
    try {
      parsed.set(r.name, { type: r.type!, value: JSON.parse(Buffer.from(r.body!.buffer, r.body!.byteOffset, r.body!.byteLength).toString('utf8')) });
    } catch {
      return null; // the main thread reports it
    }
  }
  const snapshots: UserVerdict['snapshots'] = [];
  for (const s of index.snapshots) {
    const m = parsed.get(s.name)?.value as SnapshotPayload | undefined;
    if (!m || !Array.isArray(m.collections) || m.collections.some((c) => c.object !== undefined)) return null;
    snapshots.push({ name: s.name, blobRefs: Array.isArray(m.blobRefs) ? m.blobRefs : [] });
  }
  // What replay reads of a repository: typed JSON by name, from what was just decoded.
  const reader = {
    async getJson<T>(name: string, type?: ObjectTypeName): Promise<T> {
      const hit = parsed.get(name);
      if (!hit) throw new BackupError('backup_object_missing', `backup object ${name} is missing`, { object: name });
      if (type && hit.type !== type) throw new BackupError('backup_object_corrupt', `backup object ${name} is a ${hit.type}, expected a ${type}`, { object: name });
      return hit.value as T;
    },
  } as unknown as BackupRepository;
  const problems: UserVerdict['problems'] = [];
  const blobChecks: BlobCheck[] = [];
  await restoreCheck(reader, index, true, blobChecks, (object, _users, problem) => problems.push(object === undefined ? { problem } : { object, problem }));
  return { userId: index.userId, problems, blobCheck: blobChecks[0] ?? null, snapshots };
}
