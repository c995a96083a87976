// Filesystem blob store: one file per blob at <dir>/ab/cd/<hex>, written via temp file, fsync and link.
import { fsyncDir, writeFully } from '../durable-files.js';
import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { KeepsakeError } from '../../core/errors.js';
import { isContentHash } from '../../core/hash.js';
import type { BlobStore } from '../../core/ports/blob-store.js';

const HEX2 = /^[0-9a-f]{2}$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** Where the blob sweep keeps a candidate out of sight while it decides. */
const ASIDE = 'aside';
/** link(2) errors meaning "this filesystem has no hard links": fall back to rename. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Opens (creating if needed) a blob store in `dir`. Temp files left in `dir/tmp` by a process
 * that died mid-upload are removed: they were never visible, so nothing is lost. (If two
 * processes shared one directory, an upload in flight in the other would fail cleanly.) Blobs a
 * sweep had taken out of sight (`dir/aside`) when its process died go back to their names.
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
  const store = new FsBlobStore(root);
  for (const hex of await readdirOrEmpty(join(root, ASIDE))) {
    if (HEX64.test(hex)) await store.putBack(`sha256:${hex}`);
  }
  return store;
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
    if (await renewLease(target)) {
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

  /**
   * Stores several blobs whose bytes are at hand (a restore copying photos), each exactly as `put`
   * would — hashed against its name, never visible before its bytes and its name are durable, never
   * overwriting — but with one round of fsyncs for the lot: every temp file is written, then all are
   * fsynced at once, then linked to their names, then each directory touched is fsynced once. On
   * ext4 fsyncs issued together share journal commits, where one blob at a time cost a commit per
   * file and per directory. Resolves, in order, to whether each was created (false: it existed) or
   * to the error that blob met (`blob_hash_mismatch`, an I/O error); all are durable by then.
   */
  async putMany(blobs: ReadonlyArray<{ hash: string; bytes: Uint8Array }>): Promise<Array<{ created: boolean } | { error: Error }>> {
    const out: Array<{ created: boolean } | { error: Error }> = blobs.map(() => ({ created: false }));
    const staged: Array<{ n: number; tmpFile: string; target: string }> = [];
    try {
      await Promise.all(
        blobs.map(async ({ hash, bytes }, n) => {
          try {
            const target = this.pathOf(hash);
            if (!target) throw new KeepsakeError('invalid_request', 'blob name must be sha256:<64 lowercase hex digits>');
            const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
            if (actual !== hash) throw new KeepsakeError('blob_hash_mismatch', `the bytes hash to ${actual}, not ${hash}`, { details: { blob: hash } });
            if (await renewLease(target)) return;
            const tmpFile = join(this.tmp, `${randomUUID()}.part`);
            const fh = await open(tmpFile, 'wx');
            staged.push({ n, tmpFile, target });
            try {
              await writeFully(fh, bytes);
              await fh.sync();
            } finally {
              await fh.close();
            }
          } catch (e) {
            out[n] = { error: e as Error };
          }
        }),
      );
      const durable = staged.filter((s) => !('error' in out[s.n]));
      // Directories first (each new one made durable in its parent), then the names, then the directories holding them.
      const dirs = [...new Set(durable.map((s) => dirname(s.target)))];
      await this.ensureDurableDirs([...new Set(dirs.map((d) => dirname(d)))]);
      await this.ensureDurableDirs(dirs);
      const linked = new Set<string>();
      await Promise.all(
        durable.map(async (s) => {
          try {
            out[s.n] = { created: await this.link(s.tmpFile, s.target) };
            linked.add(dirname(s.target));
          } catch (e) {
            out[s.n] = { error: e as Error };
          }
        }),
      );
      await Promise.all([...linked].map((d) => fsyncDir(d)));
      return out;
    } finally {
      await Promise.all(staged.map((s) => rm(s.tmpFile, { force: true })));
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

  async removeUnused(hashes: readonly string[], options: { untouchedSince: number; stillUnused(hashes: string[]): Promise<Set<string>> }): Promise<string[]> {
    await mkdir(join(this.root, ASIDE), { recursive: true });
    const moved: string[] = [];
    const removed: string[] = [];
    try {
      for (const hash of hashes) {
        const path = this.pathOf(hash);
        const st = path ? await stat(path).catch(() => null) : null;
        if (!path || !st || st.mtimeMs >= options.untouchedSince) continue;
        try {
          await rename(path, this.asideOf(hash));
          moved.push(hash);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      const unused = moved.length ? await options.stillUnused([...moved]) : new Set<string>();
      while (moved.length) {
        const hash = moved[moved.length - 1];
        // The lease is read again out of sight: a `put` that claimed the blob before it moved renewed it.
        const st = await stat(this.asideOf(hash));
        if (unused.has(hash) && st.mtimeMs < options.untouchedSince) {
          await rm(this.asideOf(hash));
          // A `put` while it was out of sight wrote it anew: that copy stays.
          if ((await fileSize(this.pathOf(hash)!)) === null) removed.push(hash);
        } else await this.putBack(hash);
        moved.pop();
      }
    } finally {
      for (const hash of moved) await this.putBack(hash);
    }
    return removed;
  }

  /** Moves a blob the sweep had taken out of sight back to its name (identical bytes if a `put` wrote it anew meanwhile). */
  async putBack(hash: string): Promise<void> {
    const path = this.pathOf(hash)!;
    await this.ensureDurableDir(dirname(dirname(path)));
    await this.ensureDurableDir(dirname(path));
    await rename(this.asideOf(hash), path);
    await fsyncDir(dirname(path));
  }

  async close(): Promise<void> {}

  private asideOf(hash: string): string {
    return join(this.root, ASIDE, hash.slice('sha256:'.length));
  }

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
    if (!(await this.link(tmpFile, target))) return false;
    await fsyncDir(dir);
    return true;
  }

  /** Links the durable temp file to its name, in a directory that exists (not yet durable: fsync it); false if the name was taken. */
  private async link(tmpFile: string, target: string): Promise<boolean> {
    try {
      await link(tmpFile, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (!code || !NO_HARD_LINKS.has(code)) throw e;
      if ((await fileSize(target)) !== null) return false;
      await rename(tmpFile, target); // same bytes if a racing upload won, so replacing changes nothing
    }
    return true;
  }

  /**
   * {@link ensureDurableDir} for several directories at once, fsyncing each parent once: a restore's
   * batch of 32 photos creates up to 32 `ab/` directories, all entries of the root (one fsync
   * instead of 32).
   */
  private async ensureDurableDirs(dirs: string[]): Promise<void> {
    const fresh = dirs.filter((d) => !this.durableDirs.has(d));
    await Promise.all(
      fresh.map(async (d) => {
        try {
          await mkdir(d);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }),
    );
    // Also when they existed: another upload may have created them without having fsynced yet.
    await Promise.all([...new Set(fresh.map((d) => dirname(d)))].map((parent) => fsyncDir(parent)));
    for (const d of fresh) this.durableDirs.add(d);
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



/** Sets a blob file's mtime (its lease against the sweep) to now; false when there is no such file. */
async function renewLease(path: string): Promise<boolean> {
  try {
    const now = new Date();
    await utimes(path, now, now);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
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
