// `backup prune`: two-phase removal (mark, then sweep after a grace period) of what no kept restore point needs.
import { randomBytes } from 'node:crypto';
import { BackupError } from './backup-error.js';
import type { BackupRepository } from './repository.js';
import { readLeases } from './restore-lease.js';
import { isContentHash } from '../core/hash.js';
import type { LogRecord } from '../core/ports/record-store.js';
import { loadSnapshot } from './replay.js';
import {
  names,
  parseSegmentName,
  type CheckpointPayload,
  type PruneMarkPayload,
  type SegmentPayload,
  type SegmentRef,
  type SnapshotPayload,
  type VerificationPayload,
} from './repository-format.js';

export interface PrunePolicy {
  /** Every point in time newer than now minus this stays restorable. */
  keepWithinMs: number;
  /** Also keep the newest snapshot of each of the last N days (UTC). */
  keepDaily: number;
  /** Marked objects are deleted only by a run at least this long after the mark. */
  graceMs: number;
  dryRun: boolean;
  now?: number;
}

export interface PruneReport {
  target: string;
  marked: number;
  markName: string | null;
  sweptMarks: number;
  deleted: number;
  dryRun: boolean;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Parses `30d`, `12h`, `90m`, `45s`, `2w`. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  if (!m) throw new BackupError('backup_target_invalid', `invalid duration "${text}": expected a number and s, m, h, d or w (e.g. 30d)`);
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * Objects that no kept restore point needs under `policy`, computed from the repository as it is
 * now. Per user, the base is the newest snapshot taken at or before `now - keepWithin`; every
 * segment ending at or before the base and every snapshot older than it are removable, except
 * snapshots pinned by a checkpoint or kept as a daily. Snapshot data objects are removable when no
 * kept snapshot refers to them. A photo blob is removable when no user needs it any more: needed
 * are the photos live in a kept snapshot, those written by a kept segment, and every photo the
 * user added after the base (uploaded, maybe not yet used by an item); a user without a base
 * keeps all of theirs. A user without such a base keeps everything. Objects named by an unexpired
 * restore lease (`leases/…`) are never removable, and neither is what a leased snapshot or
 * segment needs.
 */
export async function removableObjects(repo: BackupRepository, policy: PrunePolicy, now: number): Promise<Set<string>> {
  const pinned = new Set<string>();
  for (const c of await repo.listNames('checkpoints/')) {
    const cp = await repo.getJson<CheckpointPayload>(c.name, 'checkpoint');
    for (const s of Object.values(cp.snapshots)) pinned.add(s);
  }
  // A running restore's lease pins what it reads; expired leases themselves can go.
  const leases = await readLeases(repo, now);
  const removable = new Set<string>();
  const keptData = new Set<string>();
  const allData = new Set<string>();
  const neededBlobs = new Set<string>();
  const cutoff = now - policy.keepWithinMs;
  for (const index of (await repo.allUserIndexes()).values()) {
    const manifests: Array<{ name: string; seq: number; takenAt: number; data: string[]; payload: SnapshotPayload }> = [];
    for (const s of index.snapshots) {
      const m = await repo.getJson<SnapshotPayload>(s.name, 'snapshot');
      manifests.push({ name: s.name, seq: s.seq, takenAt: Date.parse(m.takenAt), data: m.collections.flatMap((c) => (c.object ? [c.object] : [])), payload: m });
      for (const c of m.collections) if (c.object) allData.add(c.object);
    }
    const base = manifests.filter((m) => m.takenAt <= cutoff).sort((a, b) => a.seq - b.seq).at(-1);
    const daily = new Set<string>();
    for (let d = 0; d < policy.keepDaily; d++) {
      const day = new Date(now - d * 86_400_000).toISOString().slice(0, 10);
      const newest = manifests.filter((m) => new Date(m.takenAt).toISOString().slice(0, 10) === day).sort((a, b) => a.seq - b.seq).at(-1);
      if (newest) daily.add(newest.name);
    }
    const keptSnapshots: typeof manifests = [];
    for (const m of manifests) {
      const keep = !base || m.seq >= base.seq || pinned.has(m.name) || daily.has(m.name) || leases.pinned.has(m.name);
      if (keep) {
        keptSnapshots.push(m);
        for (const d of m.data) keptData.add(d);
      } else removable.add(m.name);
    }
    const keptSegments = index.segments.filter((s) => !base || s.toSeq > base.seq || leases.pinned.has(s.name));
    if (base) for (const s of index.segments) if (!keptSegments.includes(s)) removable.add(s.name);
    await markNeededBlobs(repo, index.segments, keptSnapshots, keptSegments, base?.payload ?? null, neededBlobs);
  }
  for (const d of await repo.listNames('data/')) {
    allData.add(d.name);
  }
  for (const d of allData) if (!keptData.has(d)) removable.add(d);
  for (const b of await repo.listNames('blobs/')) if (!neededBlobs.has(b.name)) removable.add(b.name);
  for (const o of leases.pinned) removable.delete(o);
  for (const l of leases.expired) removable.add(l);
  return removable;
}

/** The photo a record makes live, if it is a photo (content `{"blob":"sha256:…",…}`); conflict copies never are. */
function photoBlob(r: LogRecord): string | null {
  if (r.content === null || r.deleted || (r.type === 'revision' && r.reason === 'conflict') || !r.content.includes('"blob"')) return null;
  try {
    const blob = (JSON.parse(r.content) as { blob?: unknown }).blob;
    return typeof blob === 'string' && isContentHash(blob) ? blob : null;
  } catch {
    return null;
  }
}

/**
 * Adds to `needed` the blob objects one user still needs (see {@link removableObjects}). Reads
 * only users who have photos at all, and of their snapshots only the photo collections.
 */
async function markNeededBlobs(
  repo: BackupRepository,
  segments: SegmentRef[],
  keptSnapshots: Array<{ name: string; payload: SnapshotPayload }>,
  keptSegments: SegmentRef[],
  base: SnapshotPayload | null,
  needed: Set<string>,
): Promise<void> {
  const need = (hash: string) => needed.add(names.blob(hash));
  // The newest blob refs: the last segment that carries them, else the newest snapshot.
  let newestRefs = keptSnapshots.at(-1)?.payload.blobRefs ?? [];
  let newestAt = keptSnapshots.at(-1)?.payload.seq ?? -1;
  const payloads = new Map<string, SegmentPayload>();
  for (const s of [...segments].sort((a, b) => a.toSeq - b.toSeq || a.n - b.n)) {
    if (s.toSeq < newestAt || !keptSegments.includes(s)) continue;
    const seg = await repo.getJson<SegmentPayload>(s.name, 'segment');
    payloads.set(s.name, seg);
    if (seg.blobRefs) {
      newestRefs = seg.blobRefs;
      newestAt = seg.toSeq;
    }
  }
  if (newestRefs.length === 0 && keptSnapshots.every((m) => m.payload.blobRefs.length === 0)) return; // no photos
  const atBase = new Set(base?.blobRefs ?? []);
  for (const b of newestRefs) if (!base || !atBase.has(b)) need(b);
  for (const m of keptSnapshots) {
    const photos = new Set(m.payload.collections.filter((c) => c.collection.kind === 'photos').map((c) => c.collection.id));
    if (photos.size === 0) continue;
    const state = await loadSnapshot(repo, m.name, photos);
    for (const item of state.items.values()) {
      const b = photoBlob({ type: 'item', ...item });
      if (b) need(b);
    }
  }
  for (const s of keptSegments) {
    const seg = payloads.get(s.name) ?? (await repo.getJson<SegmentPayload>(s.name, 'segment'));
    for (const r of seg.records) {
      const b = photoBlob(r);
      if (b) need(b);
    }
  }
}

/**
 * Sweeps every mark whose grace period has passed (deleting only objects that are still
 * removable now), then marks what is removable now. Refuses to run unless the newest
 * verification of this repository succeeded: pruning a repository that may be damaged could
 * delete the only intact copy of something.
 */
export async function prune(repo: BackupRepository, policy: PrunePolicy): Promise<PruneReport> {
  const now = policy.now ?? Date.now();
  const verifications = await repo.listNames('verifications/');
  const latest = verifications.at(-1);
  const last = latest ? await repo.getJson<VerificationPayload>(latest.name, 'verification') : null;
  if (!last) throw new BackupError('backup_refused', `refusing to prune ${repo.target.description}: it has never been verified (run keepsake backup verify)`);
  if (!last.ok) {
    throw new BackupError('backup_refused', `refusing to prune ${repo.target.description}: the last verification (${last.at}) found ${last.problems.length} problem(s)`);
  }
  const removable = await removableObjects(repo, policy, now);
  const report: PruneReport = { target: repo.target.description, marked: 0, markName: null, sweptMarks: 0, deleted: 0, dryRun: policy.dryRun };
  const pendingMarked = new Set<string>();
  for (const m of await repo.listNames('prune/')) {
    const mark = await repo.getJson<PruneMarkPayload>(m.name, 'pruneMark');
    if (Date.parse(mark.graceUntil) > now) {
      for (const o of mark.objects) pendingMarked.add(o);
      continue;
    }
    report.sweptMarks++;
    // Record, per user, that segments up to here go on purpose (verify checks coverage from the floor on).
    const floors = new Map<string, { seq: number; n: number }>();
    for (const o of mark.objects) {
      const seg = parseSegmentName(o);
      if (!seg || !removable.has(o)) continue;
      const f = floors.get(seg.userId);
      if (!f || seg.toSeq > f.seq) floors.set(seg.userId, { seq: seg.toSeq, n: seg.n });
    }
    if (!policy.dryRun) for (const [userId, f] of floors) await repo.putJson(names.floor(userId, f.seq, f.n), 'pruneMark', { at: new Date(now).toISOString(), ...f });
    // Photos go on purpose too: verify must not take a user's old blob ref for a lost object.
    const blobs = mark.objects.filter((o) => o.startsWith('blobs/') && removable.has(o));
    if (!policy.dryRun && blobs.length > 0) {
      const at = new Date(now).toISOString();
      await repo.putJson(names.prunedBlobs(at, randomBytes(3).toString('hex')), 'pruneMark', { at, objects: blobs });
    }
    for (const o of mark.objects) {
      if (!removable.has(o)) continue; // needed again (e.g. a new snapshot reuses it): keep
      if (!policy.dryRun) await repo.target.delete(o);
      report.deleted++;
      removable.delete(o);
    }
    if (!policy.dryRun) await repo.target.delete(m.name);
  }
  const toMark = [...removable].filter((o) => !pendingMarked.has(o)).sort();
  report.marked = toMark.length;
  if (toMark.length > 0 && !policy.dryRun) {
    const at = new Date(now).toISOString();
    const payload: PruneMarkPayload = { at, graceUntil: new Date(now + policy.graceMs).toISOString(), objects: toMark };
    report.markName = names.pruneMark(at, randomBytes(3).toString('hex'));
    await repo.putJson(report.markName, 'pruneMark', payload);
  }
  return report;
}
