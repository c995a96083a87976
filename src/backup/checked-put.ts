// How the shipper writes an object: encoded, written once, durable, then read back and checked.
import { checkObject, type ObjectTypeName } from './object-codec.js';
import type { BackupRepository } from './repository.js';
import { FileTarget } from './targets/file/file-target.js';
import { FilePutWorker } from './targets/file/put-pool.js';

/**
 * Writes objects for one target's shipper and reads each straight back to check it landed
 * intact. On a directory target all of it (gzip, checksum, encryption, temp file, fsyncs, link,
 * read-back) runs on a worker thread, so the serving thread only builds the JSON; other targets
 * (and targets wrapped by tests) go through the repository on this thread.
 */
export class CheckedPut {
  private worker: FilePutWorker | null = null;

  constructor(private readonly repo: BackupRepository) {
    const t = repo.target;
    if (t instanceof FileTarget) this.worker = new FilePutWorker(t.localPath(), repo.objectKey());
  }

  /** Resolves with the stored size, or 0 when the object already existed (then it is not re-checked: verification reads everything). */
  async put(name: string, type: ObjectTypeName, payload: string | Uint8Array): Promise<number> {
    const compress = type !== 'blob'; // photos are stored as they are (docs/backup-format.md)
    if (this.worker) return (await this.worker.put(name, type, payload, compress)).bytes;
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    if (!(await this.repo.put(name, type, bytes, compress))) return 0;
    const back = await this.repo.target.get(name);
    if (!back) throw new Error(`backup object ${name} is not readable right after it was written`);
    checkObject(name, back);
    return back.length;
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }
}
