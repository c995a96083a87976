// `backup prune`: two-phase removal (mark, then sweep after a grace period) of what no kept restore point needs.
import { randomBytes } from 'node:crypto';
import { BackupError } from './backup-error.js';
import type { BackupRepository } from './repository.js';
import { readLeases } from './restore-lease.js';
import { names, parseSegmentName, type CheckpointPayload, type PruneMarkPayload, type SnapshotPayload, type VerificationPayload } from './repository-format.js';

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
 * kept snapshot refers to them. Photo blobs are never removed: blob refs are only ever added,
 * so every blob is needed by its users' newest state. A user without such a base keeps everything.
 * Objects named by an unexpired restore lease (`leases/…`) are never removable.
 */
export async function removableObjects(repo: BackupRepository, policy: PrunePolicy, now: number): Promise<Set<string>> {
  const pinned = new Set<string>();
  for (const c of await repo.listNames('checkpoints/')) {
    const cp = await repo.getJson<CheckpointPayload>(c.name, 'checkpoint');
    for (const s of Object.values(cp.snapshots)) pinned.add(s);
  }
  const removable = new Set<string>();
  const keptData = new Set<string>();
  const allData = new Set<string>();
  const cutoff = now - policy.keepWithinMs;
  for (const index of (await repo.allUserIndexes()).values()) {
    const manifests: Array<{ name: string; seq: number; takenAt: number; data: string[] }> = [];
    for (const s of index.snapshots) {
      const m = await repo.getJson<SnapshotPayload>(s.name, 'snapshot');
      manifests.push({ name: s.name, seq: s.seq, takenAt: Date.parse(m.takenAt), data: m.collections.map((c) => c.object) });
      for (const c of m.collections) allData.add(c.object);
    }
    const base = manifests.filter((m) => m.takenAt <= cutoff).sort((a, b) => a.seq - b.seq).at(-1);
    const daily = new Set<string>();
    for (let d = 0; d < policy.keepDaily; d++) {
      const day = new Date(now - d * 86_400_000).toISOString().slice(0, 10);
      const newest = manifests.filter((m) => new Date(m.takenAt).toISOString().slice(0, 10) === day).sort((a, b) => a.seq - b.seq).at(-1);
      if (newest) daily.add(newest.name);
    }
    for (const m of manifests) {
      const keep = !base || m.seq >= base.seq || pinned.has(m.name) || daily.has(m.name);
      if (keep) for (const d of m.data) keptData.add(d);
      else removable.add(m.name);
    }
    if (base) for (const s of index.segments) if (s.toSeq <= base.seq) removable.add(s.name);
  }
  for (const d of await repo.listNames('data/')) {
    allData.add(d.name);
  }
  for (const d of allData) if (!keptData.has(d)) removable.add(d);
  // A running restore's lease pins what it reads; expired leases themselves can go.
  const leases = await readLeases(repo, now);
  for (const o of leases.pinned) removable.delete(o);
  for (const l of leases.expired) removable.add(l);
  return removable;
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
