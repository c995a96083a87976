// `backup checkpoint`: snapshot every user now, verify each snapshot by restoring it, then pin them under a label.
import type { BlobStore } from '../core/ports/blob-store.js';
import type { RecordStore } from '../core/ports/record-store.js';
import { checkReplayed, loadSnapshot } from './replay.js';
import type { BackupRepository } from './repository.js';
import { recordUserName } from './name-index.js';
import { names, type CheckpointPayload } from './repository-format.js';
import { BackupShipper } from './shipper.js';

export interface CheckpointReport {
  target: string;
  label: string;
  /** The checkpoint object, or null when verification failed and nothing was pinned. */
  name: string | null;
  users: number;
  problems: Array<{ user: string; object: string; problem: string }>;
}

/**
 * Ships whatever the target lacks, writes a snapshot of every user at their newest state, reads
 * each snapshot back and checks that its items hash right and its collections' counts and digests
 * are what the store recorded; only then writes `checkpoints/<time>-<label>` naming them all.
 */
export async function writeCheckpoint(
  store: RecordStore,
  blobs: BlobStore,
  repo: BackupRepository,
  label: string,
  onProgress: (phase: string, done: number, total: number) => void = () => {},
): Promise<CheckpointReport> {
  const shipper = new BackupShipper(store, blobs, [repo]);
  const [snapshots] = await shipper.passOnce(true, (d, t) => onProgress('snapshot', d, t));
  const problems: CheckpointReport['problems'] = [];
  let done = 0;
  for (const [user, object] of snapshots) {
    onProgress('verify', done++, snapshots.size);
    try {
      for (const problem of checkReplayed(await loadSnapshot(repo, object))) problems.push({ user, object, problem });
      // Backfills the name index of backups written before it existed (write-once: no-op after).
      const account = await store.getUser(user);
      if (account) await recordUserName(repo, account, new Date().toISOString());
    } catch (e) {
      problems.push({ user, object, problem: (e as Error).message });
    }
  }
  const report: CheckpointReport = { target: repo.target.description, label, name: null, users: snapshots.size, problems };
  if (problems.length > 0) return report;
  const takenAt = new Date().toISOString();
  const payload: CheckpointPayload = { label, takenAt, snapshots: Object.fromEntries(snapshots), verified: true };
  const name = names.checkpoint(takenAt, label);
  await repo.putJson(name, 'checkpoint', payload);
  report.name = name;
  return report;
}
