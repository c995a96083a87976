// Finds the sequence number a point in time corresponds to in one user's backup.
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import type { SegmentPayload, SnapshotPayload } from '../backup/repository-format.js';

/**
 * The highest sequence number of this user whose change was committed at or before `at`, reading
 * segments newest first (only this user's objects). 0 when nothing was committed by then.
 */
export async function seqAt(repo: BackupRepository, index: UserIndex, at: string): Promise<number> {
  const segments = [...index.segments].sort((a, b) => b.toSeq - a.toSeq);
  for (const ref of segments) {
    const seg = await repo.getJson<SegmentPayload>(ref.name, 'segment');
    const before = seg.records.filter((r) => r.modified <= at);
    if (before.length === seg.records.length && seg.records.length > 0) return seg.toSeq;
    if (before.length > 0) return Math.max(...before.map((r) => r.version));
    if (seg.records.length === 0 && seg.shippedAt <= at) return seg.toSeq;
  }
  for (const ref of [...index.snapshots].reverse()) {
    const snap = await repo.getJson<SnapshotPayload>(ref.name, 'snapshot');
    if (snap.takenAt <= at) return snap.seq;
  }
  return 0;
}
