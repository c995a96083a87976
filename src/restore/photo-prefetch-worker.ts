// Worker thread of a restore: copies photo bytes from a local backup directory into the filesystem
// blob store (read, hash, write, fsync) off the main thread, while the main thread restores records.
import { parentPort, workerData } from 'node:worker_threads';
import { BackupRepository } from '../backup/repository.js';
import type { RepositoryConfig } from '../backup/repository-format.js';
import { FileTarget } from '../backup/targets/file/file-target.js';
import { FsBlobStore } from '../store/blobs-fs/blob-store.js';
import { blockingReads } from './blocking-reads.js';
import { forEachBounded } from './bounded.js';
import { copyBlob } from './restore-blobs.js';

/** Copies running at once in this worker (reads, writes and fsyncs overlap on the threadpool). */
const PARALLEL = 4;

const { repoRoot, config, key, blobRoot } = workerData as { repoRoot: string; config: RepositoryConfig; key: Uint8Array | null; blobRoot: string };
const target = new FileTarget(repoRoot);
// Reads are synchronous (one read(2) of the whole object, no threadpool round trips; this thread has
// nothing else to do); writes and fsyncs still overlap on the threadpool.
const repo = new BackupRepository(blockingReads(target) ?? target, config, key ? Buffer.from(key) : null);
// Not openFsBlobStore: that clears the temp directory, where the main thread may be writing.
const blobs = new FsBlobStore(blobRoot);

parentPort!.on('message', (hashes: string[]) => {
  void forEachBounded(hashes, PARALLEL, async (hash) => {
    let copied = false;
    try {
      copied = await copyBlob(repo, blobs, hash);
    } catch {
      // The photo category copies it again and quarantines what does not validate.
    }
    parentPort!.postMessage({ hash, copied });
  });
});
