// A directory target's put and read-back as the put worker does them: synchronous calls on the
// worker's own thread, except the fsyncs, which wait in the thread pool so several puts overlap.
import { randomBytes } from 'node:crypto';
import { closeSync, fsync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeepsakeError } from '../../../core/errors.js';
import { isValidBackupName } from '../../../core/ports/backup-target.js';

const TMP = '.tmp';

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The same protocol as {@link FileTarget.putIfAbsent} (temp file, fsync, link(2) into place,
 * directory fsync; put-if-absent through link's EEXIST), with fewer thread-pool round trips:
 * each async file-system call costs a hand-off to the pool and back, several times the call
 * itself for a small object, and only the two fsyncs take long enough to be worth it.
 */
export class WorkerFilePut {
  private readonly knownDirs = new Set<string>();

  constructor(private readonly root: string) {}

  private path(name: string): string {
    if (!isValidBackupName(name) || name.startsWith(`${TMP}/`) || name === TMP) {
      throw new KeepsakeError('invalid_request', `invalid backup object name "${name}"`);
    }
    return join(this.root, ...name.split('/'));
  }

  /** `expectNew` skips the look before writing (link still refuses to replace an object). */
  async putIfAbsent(name: string, bytes: Uint8Array, expectNew: boolean): Promise<boolean> {
    const final = this.path(name);
    if (!expectNew && statSync(final, { throwIfNoEntry: false })) return false;
    const tmp = join(this.root, TMP, randomBytes(12).toString('hex'));
    let fd: number | null = openSync(tmp, 'wx', 0o444);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      await fsyncFd(fd);
      closeSync(fd);
      fd = null;
      await this.makeDirs(dirname(final));
      try {
        linkSync(tmp, final);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        this.knownDirs.delete(dirname(final)); // removed from outside: look again next time
        throw e;
      }
      await fsyncDir(dirname(final));
      return true;
    } finally {
      if (fd !== null) closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  }

  /** The whole object, or null when there is none. */
  get(name: string): Buffer | null {
    try {
      return readFileSync(this.path(name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** mkdir -p, fsyncing each parent of a directory it created so the new entry is durable. */
  private async makeDirs(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    if (!statSync(dir, { throwIfNoEntry: false })) {
      await this.makeDirs(dirname(dir));
      try {
        mkdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      await fsyncDir(dirname(dir));
    }
    if (this.knownDirs.size > 100_000) this.knownDirs.clear();
    this.knownDirs.add(dir);
  }
}
