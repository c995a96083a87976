// `backup status` and `backup list`: what each target holds, how far behind it is, and the restorable points.
import type { RecordStore } from '../core/ports/record-store.js';
import type { BackupRepository } from './repository.js';
import type { CheckpointPayload, SegmentPayload, VerificationPayload } from './repository-format.js';

export interface RepositoryStatus {
  target: string;
  encrypted: boolean;
  users: number;
  /** Users whose newest change the target does not have yet. */
  usersBehind: number;
  /** Highest sequence number shipped, summed over users (a progress figure). */
  shippedSeqTotal: number;
  storeSeqTotal: number;
  /** Seconds since the oldest change the target lacks (0 when up to date). */
  lagSeconds: number;
  objects: number;
  bytes: number;
  segments: number;
  snapshots: number;
  newestSnapshot: string | null;
  checkpoints: Array<{ name: string; label: string; takenAt: string }>;
  lastVerification: (Pick<VerificationPayload, 'at' | 'ok' | 'mode' | 'usersRestored'> & { problems: number; ageSeconds: number }) | null;
}

/** Compares the store with one repository. Reads one listing plus the newest verification and checkpoints. */
export async function repositoryStatus(store: RecordStore, repo: BackupRepository, now = Date.now()): Promise<RepositoryStatus> {
  const all = await repo.listNames('');
  const indexes = await repo.allUserIndexes();
  let usersBehind = 0;
  let shippedSeqTotal = 0;
  let storeSeqTotal = 0;
  let oldest = now;
  for (const { userId, seq } of await store.listUserSeqs()) {
    const shipped = indexes.get(userId)?.segments.reduce((m, s) => Math.max(m, s.toSeq), 0) ?? -1;
    storeSeqTotal += seq;
    shippedSeqTotal += Math.max(0, shipped);
    if (seq > shipped || shipped < 0) {
      usersBehind++;
      const batch = await store.readBackupBatch(userId, Math.max(0, shipped), 1);
      const first = batch?.records[0];
      const t = first ? Date.parse(first.modified) : Date.parse(batch?.user.createdAt ?? '');
      if (Number.isFinite(t)) oldest = Math.min(oldest, t);
    }
  }
  const snapshots = [...indexes.values()].flatMap((i) => i.snapshots);
  const verifications = all.filter((o) => o.name.startsWith('verifications/'));
  let lastVerification: RepositoryStatus['lastVerification'] = null;
  for (const v of verifications.reverse()) {
    const p = await repo.getJson<VerificationPayload>(v.name, 'verification').catch(() => null);
    if (!p) continue;
    lastVerification = { at: p.at, ok: p.ok, mode: p.mode, usersRestored: p.usersRestored, problems: p.problems.length, ageSeconds: (now - Date.parse(p.at)) / 1000 };
    break;
  }
  const checkpoints: RepositoryStatus['checkpoints'] = [];
  for (const c of all.filter((o) => o.name.startsWith('checkpoints/'))) {
    const p = await repo.getJson<CheckpointPayload>(c.name, 'checkpoint').catch(() => null);
    if (p) checkpoints.push({ name: c.name, label: p.label, takenAt: p.takenAt });
  }
  return {
    target: repo.target.description,
    encrypted: repo.encrypted,
    users: indexes.size,
    usersBehind,
    shippedSeqTotal,
    storeSeqTotal,
    lagSeconds: Math.max(0, (now - oldest) / 1000),
    objects: all.length,
    bytes: all.reduce((n, o) => n + o.size, 0),
    segments: [...indexes.values()].reduce((n, i) => n + i.segments.length, 0),
    snapshots: snapshots.length,
    newestSnapshot: snapshots.sort((a, b) => a.name.localeCompare(b.name)).at(-1)?.name ?? null,
    checkpoints,
    lastVerification,
  };
}

/** One point in time a user can be restored to. */
export interface RestorePoint {
  seq: number;
  /** Time of the newest change included. */
  at: string;
  kind: 'segment' | 'snapshot';
  object: string;
}

/** The restorable points of one user: the end of every segment (and every snapshot). Reads this user's objects only. */
export async function restorePoints(repo: BackupRepository, userId: string): Promise<RestorePoint[]> {
  const index = await repo.userIndex(userId);
  const points: RestorePoint[] = [];
  for (const s of index.segments) {
    const seg = await repo.getJson<SegmentPayload>(s.name, 'segment');
    const newest = seg.records.reduce((m, r) => (r.modified > m ? r.modified : m), '');
    points.push({ seq: s.toSeq, at: newest || seg.shippedAt, kind: 'segment', object: s.name });
  }
  for (const s of index.snapshots) points.push({ seq: s.seq, at: points.find((p) => p.seq === s.seq)?.at ?? '', kind: 'snapshot', object: s.name });
  return points.sort((a, b) => a.seq - b.seq || a.kind.localeCompare(b.kind));
}
