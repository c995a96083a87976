// Copies the photos a restore will need in the background, on a worker thread, from the moment the
// plan is known: the bytes are on disk by the time the photo category's turn comes.
import { Worker } from 'node:worker_threads';
import type { BackupRepository } from '../backup/repository.js';
import type { BlobStore } from '../core/ports/blob-store.js';
import { FsBlobStore } from '../store/blobs-fs/blob-store.js';

/** Hashes sent to the worker per message. */
const CHUNK = 64;

/**
 * Background photo copies. A blob copied here is durable in the blob store but nothing shows it
 * until the photo category is restored (photo items are what make a blob visible), so copying
 * early changes no priority: the photo category still waits for every contact and calendar. The
 * photo category still runs its own copy afterwards, which finds these blobs present (and copies,
 * and validates, any the worker could not).
 */
export class PhotoPrefetch {
  private readonly waiting = new Map<string, Array<() => void>>();
  private readonly settled = new Set<string>();
  private readonly sent: Set<string>;
  private closed = false;
  /** Photos the worker copied (those the blob store lacked). */
  copied = 0;

  private constructor(private readonly worker: Worker, hashes: string[]) {
    this.sent = new Set();
    worker.on('message', (m: { hash: string; copied: boolean }) => {
      if (m.copied) this.copied++;
      this.settle(m.hash);
    });
    // A worker that fails only costs the speed-up: everything waiting goes on without it.
    const giveUp = () => {
      this.closed = true;
      for (const h of [...this.waiting.keys()]) this.settle(h);
    };
    worker.on('error', giveUp);
    worker.on('exit', giveUp);
    this.add(hashes);
  }

  /** Copies these too (after those given before); hashes already given are not copied twice. */
  add(hashes: Iterable<string>): void {
    const fresh: string[] = [];
    for (const h of hashes) {
      if (this.sent.has(h)) continue;
      this.sent.add(h);
      fresh.push(h);
    }
    for (let i = 0; i < fresh.length; i += CHUNK) this.worker.postMessage(fresh.slice(i, i + CHUNK));
  }

  /**
   * Starts copying `hashes` (in that order) when the backup is a local directory and the blob store
   * a filesystem one; null otherwise (the photo category then copies everything itself). With
   * `evenIfNone`, also with no hashes yet (more come with `add`).
   */
  static start(repo: BackupRepository, blobs: BlobStore, hashes: string[], evenIfNone = false): PhotoPrefetch | null {
    const repoRoot = repo.target.localPath();
    if (!repoRoot || !(blobs instanceof FsBlobStore) || (hashes.length === 0 && !evenIfNone)) return null;
    const worker = new Worker(new URL('./photo-prefetch-worker.js', import.meta.url), {
      workerData: { repoRoot, config: repo.config, key: repo.objectKey(), blobRoot: blobs.root },
    });
    return new PhotoPrefetch(worker, [...new Set(hashes)]);
  }

  /** Resolves once the worker is done with each of `hashes` (copied or not), or gave up. */
  async whenDone(hashes: Iterable<string>): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const h of hashes) {
      if (this.closed || !this.sent.has(h) || this.settled.has(h)) continue;
      pending.push(new Promise((resolve) => {
        const list = this.waiting.get(h) ?? [];
        list.push(resolve);
        this.waiting.set(h, list);
      }));
    }
    await Promise.all(pending);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }

  private settle(hash: string): void {
    this.settled.add(hash);
    const list = this.waiting.get(hash);
    this.waiting.delete(hash);
    for (const resolve of list ?? []) resolve();
  }
}
