// A ReplicaStore in a directory (Node): an fsynced append-only JSON-lines log plus blob files.
//
// Each commit is one line holding all its mutations, appended and fsynced before `commit`
// resolves; a torn last line (power lost mid-write) is dropped on load, which is exactly
// "none of that commit's mutations", so commits are atomic. When the log grows past
// `compactAfterLines` it is rewritten as one snapshot line into a temporary file, fsynced and
// renamed over the log, then the directory is fsynced.
import { type FileHandle, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReplicaMaps, type ReplicaMutation, type ReplicaSnapshot, type ReplicaStore } from '../replica-store.js';

const LOG = 'replica.jsonl';

export interface FileReplicaStoreOptions {
  /** Rewrite the log as one snapshot after this many commits (default 5,000). */
  compactAfterLines?: number;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class FileReplicaStore implements ReplicaStore {
  private readonly maps = new ReplicaMaps();
  private log: FileHandle | null = null;
  private lines = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly compactAfterLines: number,
  ) {}

  /** Opens (creating if needed) the replica kept in `dir`. */
  static async open(dir: string, options: FileReplicaStoreOptions = {}): Promise<FileReplicaStore> {
    const s = new FileReplicaStore(dir, options.compactAfterLines ?? 5000);
    await mkdir(join(dir, 'blobs'), { recursive: true });
    let text = '';
    try {
      text = await readFile(join(dir, LOG), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const lines = text.split('\n');
    let good = 0;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') continue;
      let parsed: ReplicaMutation[];
      try {
        parsed = JSON.parse(lines[i]) as ReplicaMutation[];
      } catch {
        if (i >= lines.length - 2) break; // torn final commit: it never completed
        throw new Error(`replica log ${join(dir, LOG)} is damaged at line ${i + 1}`);
      }
      for (const m of parsed) s.maps.apply(m);
      good++;
    }
    // Rewrite at once: drops a torn tail and starts from one compact line.
    await s.compact();
    s.lines = good > 0 ? 1 : 0;
    return s;
  }

  async load(): Promise<ReplicaSnapshot> {
    return structuredClone(this.maps.snapshot());
  }

  commit(mutations: ReplicaMutation[]): Promise<void> {
    const run = this.queue.then(async () => {
      const line = JSON.stringify(mutations) + '\n';
      await this.log!.appendFile(line, 'utf8');
      await this.log!.datasync();
      for (const m of JSON.parse(line) as ReplicaMutation[]) this.maps.apply(m);
      if (++this.lines >= this.compactAfterLines) await this.compact();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async compact(): Promise<void> {
    const snap = this.maps.snapshot();
    const all: ReplicaMutation[] = [
      ...(snap.meta ? [{ op: 'setMeta', meta: snap.meta } as const] : []),
      ...snap.items.map((item) => ({ op: 'putItem', item }) as const),
      ...snap.pending.map((change) => ({ op: 'putPending', change }) as const),
      ...snap.conflicts.map((copy) => ({ op: 'putConflict', copy }) as const),
    ];
    const tmp = join(this.dir, LOG + '.tmp');
    const fh = await open(tmp, 'w');
    try {
      if (all.length) await fh.writeFile(JSON.stringify(all) + '\n', 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.log?.close();
    await rename(tmp, join(this.dir, LOG));
    await fsyncDir(this.dir);
    this.log = await open(join(this.dir, LOG), 'a');
    this.lines = 1;
  }

  async putBlob(hash: string, bytes: Uint8Array): Promise<void> {
    const name = join(this.dir, 'blobs', hash.replace(/^sha256:/, ''));
    const tmp = name + '.tmp';
    await writeFile(tmp, bytes);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, name);
    await fsyncDir(join(this.dir, 'blobs'));
  }

  async getBlob(hash: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(join(this.dir, 'blobs', hash.replace(/^sha256:/, ''))));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.queue;
    await this.log?.close();
    this.log = null;
  }
}
