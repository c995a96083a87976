// Worker thread of a restore: copies photo bytes from a local backup directory into the filesystem
// blob store (read, hash, write, fsync) off the main thread, while the main thread restores records.
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { BackupError } from '../backup/backup-error.js';
import { BackupRepository } from '../backup/repository.js';
import { names, type RepositoryConfig } from '../backup/repository-format.js';
import { FileTarget } from '../backup/targets/file/file-target.js';
import { isContentHash } from '../core/hash.js';
import { FsBlobStore } from '../store/blobs-fs/blob-store.js';
import { BufferPool, readPooled } from './buffer-pool.js';
import { blobFromObject } from './restore-blobs.js';

/** Photos per batch, and bytes at most (a batch's temp files are fsynced together, then its directories once). */
const BATCH_BLOBS = 32;
const BATCH_BYTES = 64 * 1024 * 1024;

const { repoRoot, config, key, blobRoot } = workerData as { repoRoot: string; config: RepositoryConfig; key: Uint8Array | null; blobRoot: string };
const target = new FileTarget(repoRoot);
const repo = new BackupRepository(target, config, key ? Buffer.from(key) : null);
// Reads are synchronous (read(2) of the whole object into a reused buffer, no threadpool round
// trips; this thread has nothing else to do); writes and fsyncs overlap on the threadpool.
const pool = new BufferPool();
// Not openFsBlobStore: that clears the temp directory, where the main thread may be writing.
const blobs = new FsBlobStore(blobRoot);

const queue: string[] = [];
let running = false;

/** Copies the queued photos a batch at a time; each is reported once durable (or given up: the photo category copies it again and quarantines what does not validate). */
async function drain(): Promise<void> {
  running = true;
  let inFlight: Promise<void> = Promise.resolve();
  while (queue.length > 0) {
    const batch: Array<{ hash: string; bytes: Uint8Array }> = [];
    const release: Array<() => void> = [];
    let bytes = 0;
    while (queue.length > 0 && batch.length < BATCH_BLOBS && bytes < BATCH_BYTES) {
      const hash = queue.shift()!;
      try {
        if (await blobs.stat(hash)) {
          parentPort!.postMessage({ hash, copied: false });
          continue;
        }
        // A name from a backed-up item: only a content hash may become a path.
        if (!isContentHash(hash)) throw new BackupError('backup_object_corrupt', `photo blob name ${JSON.stringify(hash)} is not a content hash`);
        const name = names.blob(hash);
        const raw = readPooled(join(repoRoot, ...name.split('/')), pool);
        if (!raw) throw new BackupError('backup_object_missing', `backup object ${name} is missing`, { object: name });
        release.push(raw.release);
        const b = blobFromObject(repo, hash, raw.bytes);
        batch.push({ hash, bytes: b });
        bytes += b.length;
      } catch {
        parentPort!.postMessage({ hash, copied: false });
      }
    }
    const copying = blobs
      .putMany(batch)
      .then((results) => {
        for (const [n, r] of results.entries()) parentPort!.postMessage({ hash: batch[n].hash, copied: 'created' in r && r.created });
      })
      .finally(() => {
        for (const r of release) r();
      });
    // Two batches in the air: this one's writes and fsyncs run on the threadpool while the next is read.
    await inFlight;
    inFlight = copying;
  }
  await inFlight;
  running = false;
  // More may have come while the last batch was being written.
  if (queue.length > 0) void drain();
}

parentPort!.on('message', (hashes: string[]) => {
  queue.push(...hashes);
  if (!running) void drain();
});
