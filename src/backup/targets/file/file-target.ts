// Backup target on a local (or mounted) directory: temp file, fsync, hard link into place, directory fsync.
import { fsyncDir, writeFully } from '../../../store/durable-files.js';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFile as readFileCb, statSync } from 'node:fs';
import { type FileHandle, link, mkdir, open, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeepsakeError } from '../../../core/errors.js';
import { type BackupObjectInfo, type BackupTarget, isValidBackupName } from '../../../core/ports/backup-target.js';

const TMP = '.tmp';
/** Longest stretch a listing runs without giving the event loop a turn. */
const YIELD_EVERY_MS = 5;

/** Turns `file:///path` or a plain path into an absolute directory path. */
export function fileTargetPath(location: string): string {
  return location.startsWith('file:') ? fileURLToPath(location) : resolve(location);
}

/**
 * Opens a directory target, creating the directory itself when its parent exists. A missing
 * parent fails with ENOENT rather than being created: it usually means a backup disk or share is
 * not mounted, and backups must not land silently on the disk underneath.
 */
export async function openFileTarget(location: string): Promise<FileTarget> {
  const root = fileTargetPath(location);
  for (const dir of [root, join(root, TMP)]) {
    try {
      await mkdir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw Object.assign(new Error(`backup directory ${root} cannot be created: ${dirname(root)} does not exist (not mounted?)`), { code });
      }
      if (code !== 'EEXIST') throw e;
    }
  }
  return new FileTarget(root);
}

/**
 * One file per object under the root directory, at the object's name. A put writes
 * `<root>/.tmp/<random>`, fsyncs it, hard-links it to its name (link(2) fails with EEXIST
 * instead of replacing, which gives put-if-absent atomically), fsyncs the directory (and any
 * directory it had to create) and removes the temp name.
 */
export class FileTarget implements BackupTarget {
  readonly description: string;
  private lastYield = 0;
  /**
   * Directories known to exist (nothing here removes a directory): a put into one skips the stat
   * that checks for it. On the server every segment is a put into a user's `seg/` directory.
   */
  private readonly knownDirs = new Set<string>();

  constructor(private readonly root: string) {
    this.description = `file://${root}`;
  }

  localPath(): string {
    return this.root;
  }

  private path(name: string): string {
    if (!isValidBackupName(name) || name.startsWith(`${TMP}/`) || name === TMP) {
      throw new KeepsakeError('invalid_request', `invalid backup object name "${name}"`);
    }
    return join(this.root, ...name.split('/'));
  }

  async putIfAbsent(name: string, bytes: Uint8Array): Promise<boolean> {
    const final = this.path(name);
    if (await exists(final)) return false;
    const tmp = join(this.root, TMP, `${randomBytes(12).toString('hex')}`);
    let fh: FileHandle | null = await open(tmp, 'wx', 0o444);
    try {
      await writeFully(fh, bytes);
      await fh.sync();
      await fh.close();
      fh = null;
      await this.makeDirs(dirname(final));
      try {
        await link(tmp, final);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        this.knownDirs.delete(dirname(final)); // removed from outside: look again next time
        throw e;
      }
      await fsyncDir(dirname(final));
      return true;
    } finally {
      if (fh) await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    }
  }

  get(name: string): Promise<Uint8Array | null> {
    const path = this.path(name);
    // The callback form of readFile costs about half of FileHandle.readFile per small object.
    return new Promise((resolve, reject) => {
      readFileCb(path, (err, data) => {
        if (err) return err.code === 'ENOENT' ? resolve(null) : reject(err);
        resolve(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
    });
  }

  async rangeGet(name: string, offset: number, length: number): Promise<Uint8Array | null> {
    const path = this.path(name);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      const buf = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, got);
    } finally {
      await fh.close();
    }
  }

  async *list(prefix: string): AsyncIterable<BackupObjectInfo> {
    // Start the walk at the deepest directory the prefix names fully.
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut);
    if (base !== '' && !isValidBackupName(base)) return;
    yield* this.walk(base, prefix);
  }

  private async *walk(dirName: string, prefix: string): AsyncIterable<BackupObjectInfo> {
    // Synchronous readdir/stat, yielding to the event loop every few milliseconds: a repository has
    // tens of thousands of small files, and each async call costs a thread-pool round trip
    // (several times the call itself). A pause stays short because one directory is small.
    const dir = dirName === '' ? this.root : join(this.root, ...dirName.split('/'));
    if (performance.now() - this.lastYield > YIELD_EVERY_MS) {
      await new Promise((r) => setImmediate(r));
      this.lastYield = performance.now();
    }
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw e;
    }
    // Sorting directories as "name/" gives the byte order of the full object names.
    const keyed = entries.filter((e) => !(dirName === '' && e.name === TMP)).map((e) => ({ e, key: e.isDirectory() ? `${e.name}/` : e.name }));
    // Object names are ASCII, where string order is byte order; anything else is compared as UTF-8.
    const byteOrder = keyed.every((k) => ASCII.test(k.key)) ? (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0) : cmp;
    const names = keyed.sort((a, b) => byteOrder(a.key, b.key)).map((k) => k.e);
    const found: BackupObjectInfo[] = [];
    const flush = function* () {
      yield* found;
      found.length = 0;
    };
    for (const e of names) {
      const name = dirName === '' ? e.name : `${dirName}/${e.name}`;
      if (e.isDirectory()) {
        // Skip directories that cannot hold a match.
        if (!(name + '/').startsWith(prefix) && !prefix.startsWith(name + '/')) continue;
        yield* flush();
        yield* this.walk(name, prefix);
      } else if (e.isFile() && name.startsWith(prefix)) {
        const s = statSync(join(dir, e.name), { throwIfNoEntry: false });
        if (s) found.push({ name, size: s.size });
      }
    }
    yield* flush();
  }

  async delete(name: string): Promise<void> {
    const path = this.path(name);
    await rm(path, { force: true });
    await fsyncDir(dirname(path)).catch(() => {});
  }

  async close(): Promise<void> {}

  /** mkdir -p, fsyncing each parent of a directory it created so the new entry is durable. */
  private async makeDirs(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    if (!(await exists(dir))) {
      await this.makeDirs(dirname(dir));
      try {
        await mkdir(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      await fsyncDir(dirname(dir));
    }
    if (this.knownDirs.size > 100_000) this.knownDirs.clear();
    this.knownDirs.add(dir);
  }
}

const ASCII = /^[\x00-\x7f]*$/;

function cmp(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}


