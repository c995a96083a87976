// Filesystem blob store: one file per blob at <dir>/ab/cd/<hex>, written via temp file, fsync and link.
import { fsyncDir, writeFully } from '../durable-files.js';
import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { KeepsakeError } from '../../core/errors.js';
import { isContentHash } from '../../core/hash.js';
import type { BlobStore } from '../../core/ports/blob-store.js';

const HEX2 = /^[0-9a-f]{2}$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** link(2) errors meaning "this filesystem has no hard links": fall back to rename. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Opens (creating if needed) a blob store in `dir`. Temp files left in `dir/tmp` by a process
 * that died mid-upload are removed: they were never visible, so nothing is lost. (If two
 * processes shared one directory, an upload in flight in the other would fail cleanly.)
 */
export async function openFsBlobStore(dir: string): Promise<FsBlobStore> {
  const root = resolve(dir);
  const firstCreated = await mkdir(root, { recursive: true });
  if (firstCreated !== undefined) {
    for (let d = root; d !== dirname(resolve(firstCreated)) && dirname(d) !== d; d = dirname(d)) await fsyncDir(dirname(d));
  }
  const tmp = join(root, 'tmp');
  await mkdir(tmp, { recursive: true });
  await fsyncDir(root);
  for (const name of await readdir(tmp)) await rm(join(tmp, name), { recursive: true, force: true });
  return new FsBlobStore(root);
}

/**
 * Blobs as files named by their SHA-256. A blob becomes visible only once complete and durable:
 * bytes go to a temp file in `tmp/` while being hashed and counted, the file is fsynced, then
 * hard-linked to its final name (which fails rather than replaces if the blob already exists, so
 * a blob is never overwritten) and the final directory is fsynced. Names are checked with
 * `isContentHash` before any path is built, so no name can reach outside the directory.
 */
export class FsBlobStore implements BlobStore {
  readonly description: string;
  private readonly tmp: string;
  /** Directories whose entry in their parent is known to be durable. */
  private readonly durableDirs = new Set<string>();

  /** `root`: the blob directory (restore copies photos into it from worker threads). */
  constructor(readonly root: string) {
    this.description = `fs:${root}`;
    this.tmp = join(root, 'tmp');
  }

  async put(hash: string, source: AsyncIterable<Uint8Array>, options: { maxBytes: number }): Promise<{ size: number; created: boolean }> {
    const target = this.pathOf(hash);
    if (!target) throw new KeepsakeError('invalid_request', 'blob name must be sha256:<64 lowercase hex digits>');
    if (await fileSize(target) !== null) {
      // Still read and check every byte: whoever claims a blob must prove they hold its bytes.
      return { size: await receive(source, hash, options.maxBytes, null), created: false };
    }
    const tmpFile = join(this.tmp, `${randomUUID()}.part`);
    const fh = await open(tmpFile, 'wx');
    try {
      let size: number;
      try {
        size = await receive(source, hash, options.maxBytes, fh);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const created = await this.publish(tmpFile, target);
      return { size, created };
    } finally {
      await rm(tmpFile, { force: true });
    }
  }

  async stat(hash: string): Promise<{ size: number } | null> {
    const path = this.pathOf(hash);
    const size = path ? await fileSize(path) : null;
    return size === null ? null : { size };
  }

  async get(hash: string): Promise<AsyncIterable<Uint8Array> | null> {
    const path = this.pathOf(hash);
    if (!path) return null;
    try {
      const fh = await open(path, 'r');
      return fh.createReadStream({ highWaterMark: 64 * 1024 });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async *list(): AsyncIterable<string> {
    for (const ab of await readdir(this.root)) {
      if (!HEX2.test(ab)) continue;
      for (const cd of await readdirOrEmpty(join(this.root, ab))) {
        if (!HEX2.test(cd)) continue;
        for (const hex of await readdirOrEmpty(join(this.root, ab, cd))) {
          if (HEX64.test(hex) && hex.startsWith(ab + cd)) yield `sha256:${hex}`;
        }
      }
    }
  }

  async close(): Promise<void> {}

  /** `<root>/ab/cd/<hex>` for a well-formed name, null for anything else. */
  private pathOf(hash: string): string | null {
    if (!isContentHash(hash)) return null;
    const hex = hash.slice('sha256:'.length);
    return join(this.root, hex.slice(0, 2), hex.slice(2, 4), hex);
  }

  /** Gives the durable temp file its final name; false if another upload got there first. */
  private async publish(tmpFile: string, target: string): Promise<boolean> {
    const dir = dirname(target);
    await this.ensureDurableDir(dirname(dir));
    await this.ensureDurableDir(dir);
    try {
      await link(tmpFile, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (!code || !NO_HARD_LINKS.has(code)) throw e;
      if ((await fileSize(target)) !== null) return false;
      await rename(tmpFile, target); // same bytes if a racing upload won, so replacing changes nothing
    }
    await fsyncDir(dir);
    return true;
  }

  private async ensureDurableDir(dir: string): Promise<void> {
    if (this.durableDirs.has(dir)) return;
    try {
      await mkdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // Also when it existed: another upload may have created it without having fsynced yet.
    await fsyncDir(dirname(dir));
    this.durableDirs.add(dir);
  }
}

/**
 * Reads `source` to the end, counting and hashing, writing to `fh` when given. Throws
 * `blob_too_large` as soon as `maxBytes` is passed and `blob_hash_mismatch` at the end;
 * errors of the source or of the disk (ENOSPC) propagate. Returns the size.
 */
async function receive(source: AsyncIterable<Uint8Array>, hash: string, maxBytes: number, fh: FileHandle | null): Promise<number> {
  const hasher = createHash('sha256');
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > maxBytes) throw new KeepsakeError('blob_too_large', `the blob exceeds ${maxBytes} bytes`, { details: { blob: hash } });
    hasher.update(chunk);
    if (fh) await writeFully(fh, chunk);
  }
  const actual = `sha256:${hasher.digest('hex')}`;
  if (actual !== hash) throw new KeepsakeError('blob_hash_mismatch', `the bytes hash to ${actual}, not ${hash}`, { details: { blob: hash } });
  return size;
}



async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
