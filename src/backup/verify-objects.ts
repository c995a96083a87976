// Verification's object pass: reads every object once, checks its checksum and decodes it, on
// worker threads when the target is a local directory (the per-object cost dominates a full verify).
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackupObjectInfo } from '../core/ports/backup-target.js';
import { BackupError, isBackupError } from './backup-error.js';
import { checkObject, decodeCheckedObject, openCheckedObject, type ObjectTypeName } from './object-codec.js';
import type { InflateBatch } from './verify-inflate.js';
import { BackupRepository } from './repository.js';
import { names } from './repository-format.js';
import type { UserVerdict } from './verify-restore.js';

/** What checking one object found. */
export interface ObjectCheck {
  name: string;
  /** Bytes read (0 when missing). */
  bytes: number;
  /** The object's size, when a worker found it by walking a directory. */
  size?: number;
  /** Set when the object is damaged or missing, in the words verify reports. */
  problem?: string;
  /** The decoded payload, when it was asked for and the object is intact. */
  body?: Uint8Array;
  type?: ObjectTypeName;
}

/** One object to check; `decode` asks for its payload back (photo blobs never come back). */
export interface ObjectToCheck {
  name: string;
  size: number;
  decode: boolean;
}

/**
 * Checks one object's bytes: header and checksum; for a photo blob, also that its bytes hash to
 * its name; with `decode`, decrypts and decompresses it (once — the checksum is not recomputed).
 * With `inflate`, a compressed payload is left to that batch, which sets `body` when flushed.
 */
export function checkObjectBytes(item: ObjectToCheck, bytes: Uint8Array | null, key: Buffer | null, inflate?: InflateBatch): ObjectCheck {
  const { name } = item;
  if (!bytes) return { name, bytes: 0, problem: 'missing: listed but not readable' };
  try {
    const header = checkObject(name, bytes);
    if (name.startsWith('blobs/')) {
      // A plain photo's body is its bytes: the hash the checksum check took is the one to compare.
      const plain = header.bodyHash && !header.compressed && !header.encrypted && header.type === 'blob';
      const hex = plain ? header.bodyHash!.toString('hex') : createHash('sha256').update(decodeCheckedObject(name, bytes, header, key, 'blob')).digest('hex');
      if (!name.endsWith(`/${hex}`)) return { name, bytes: bytes.length, problem: 'photo bytes do not hash to the object name' };
      return { name, bytes: bytes.length };
    }
    if (!item.decode) return { name, bytes: bytes.length };
    if (!inflate || !header.compressed) return { name, bytes: bytes.length, type: header.type, body: decodeCheckedObject(name, bytes, header, key) };
    const result: ObjectCheck = { name, bytes: bytes.length, type: header.type };
    inflate.add(result, openCheckedObject(name, bytes, header, key));
    return result;
  } catch (e) {
    return { name, bytes: bytes.length, problem: describeProblem(e) };
  }
}

/** A verify problem in words: backup errors say what is wrong; anything else is "unreadable". */
export function describeProblem(e: unknown): string {
  if (isBackupError(e)) return e.message;
  return `unreadable: ${(e as Error).message}`;
}

/** Worker threads used for a local target; at most this many however many cores there are. */
const MAX_WORKERS = 4;
/** A batch sent to a worker: enough objects that messaging costs little per object. */
const BATCH_OBJECTS = 256;
const BATCH_BYTES = 16 * 1024 * 1024;
/** Parsed manifests kept for the whole run at most (bounds memory on very large repositories). */
const MAX_SHARED_MANIFESTS = 50_000;

/**
 * Checks every object in `items`, calling `onResult` once per object (in no particular order).
 * A local directory target is read by worker threads (sync reads of files and SHA-256 off the
 * main thread: on a repository of many small objects this is several times faster than async
 * reads); any other target is read with `get`, a few objects at a time.
 */
export async function checkAllObjects(
  repo: BackupRepository,
  items: ObjectToCheck[],
  onResult: (r: ObjectCheck) => void,
  options: { threads?: number; pool?: WorkerPool } = {},
): Promise<void> {
  const root = repo.target.localPath();
  const threads = Math.max(1, Math.min(MAX_WORKERS, options.threads ?? availableParallelism()));
  if (root === null || items.length < 64) {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++];
        let bytes: Uint8Array | null;
        try {
          bytes = await repo.target.get(item.name);
        } catch (e) {
          onResult({ name: item.name, bytes: 0, problem: describeProblem(e) });
          continue;
        }
        onResult(checkObjectBytes(item, bytes, repo.objectKey()));
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker));
    return;
  }
  const batches: ObjectToCheck[][] = [];
  let batch: ObjectToCheck[] = [];
  let batchBytes = 0;
  for (const item of items) {
    if (batch.length >= BATCH_OBJECTS || (batch.length > 0 && batchBytes + item.size > BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(item);
    batchBytes += item.size;
  }
  if (batch.length > 0) batches.push(batch);
  const own = options.pool ? null : new WorkerPool(root, repo.objectKey(), Math.min(threads, batches.length));
  try {
    await (options.pool ?? own!).run(batches.map((b) => ({ type: 'check', items: b })), onResult);
  } finally {
    await own?.close();
  }
}

/** Work for a verification worker: check named objects, or walk directories and check every file in them. */
export type WorkerTask = { type: 'check'; items: ObjectToCheck[] } | { type: 'walk'; dirs: string[]; restore: boolean };

/** What a worker sends back for one task: every object's check, and users it restored itself (their payloads stay behind). */
export interface WorkerResults {
  results: ObjectCheck[];
  verdicts: UserVerdict[];
}

type TaskHandler = { onResults(m: WorkerResults): void; onError(e: unknown): void };

/**
 * Verification worker threads reading the directory `root`: tasks from every `run` go through one
 * queue in order, two in flight per worker (it reads the next while the main thread takes the
 * results of one). One pool serves a whole verification, so the photo pass starts on the same
 * threads the moment the small objects are done.
 */
class WorkerPool {
  private readonly workers: Worker[];
  private readonly queue: Array<{ task: WorkerTask; handler: TaskHandler }> = [];
  private readonly inFlight: Array<Array<TaskHandler>>;
  private failed: unknown = null;

  constructor(root: string, key: Buffer | null, threads: number) {
    this.workers = Array.from({ length: threads }, () => new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: { root, key } }));
    this.inFlight = this.workers.map(() => []);
    this.workers.forEach((w, i) => {
      w.on('message', (m: WorkerResults) => {
        this.inFlight[i].shift()?.onResults(m);
        this.feed(i);
      });
      const fail = (e: unknown) => {
        this.failed ??= e;
        for (const h of this.inFlight[i].splice(0)) h.onError(e);
        for (const q of this.queue.splice(0)) q.handler.onError(e);
      };
      w.on('error', fail);
      w.on('exit', (code) => this.inFlight[i].length > 0 && fail(new Error(`verification worker exited with code ${code}`)));
    });
  }

  /** Runs `tasks`; resolves once every one of them came back. */
  run(tasks: WorkerTask[], onResult: (r: ObjectCheck) => void, onTask?: (results: ObjectCheck[], verdicts: UserVerdict[]) => void): Promise<void> {
    if (tasks.length === 0) return Promise.resolve();
    if (this.failed !== null) return Promise.reject(this.failed);
    return new Promise<void>((resolve, reject) => {
      let left = tasks.length;
      let settled = false;
      const handler: TaskHandler = {
        onResults: ({ results, verdicts }) => {
          for (const r of results) onResult(r);
          onTask?.(results, verdicts);
          if (--left === 0 && !settled) {
            settled = true;
            resolve();
          }
        },
        onError: (e) => {
          if (!settled) {
            settled = true;
            reject(e);
          }
        },
      };
      for (const task of tasks) this.queue.push({ task, handler });
      for (let i = 0; i < this.workers.length; i++) this.feed(i);
    });
  }

  private feed(i: number): void {
    while (this.inFlight[i].length < 2 && this.queue.length > 0) {
      const { task, handler } = this.queue.shift()!;
      this.inFlight[i].push(handler);
      this.workers[i].postMessage(task);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** What {@link startObjectPass} resolves with once every object but the photos was checked. */
export interface ObjectPass {
  /** Every object of the repository (photos and `config` included), in name order. */
  listing: BackupObjectInfo[];
  /** Resolves once the photos (when asked for) were checked too. */
  done: Promise<void>;
}

/**
 * Verification's object pass: lists the repository and checks every object but `config` once,
 * photo blobs only with `checkBlobs`. Resolves as soon as everything except the photos is in
 * (photos go on in the background, see `done`). On a local directory the worker threads list
 * the directories themselves and check each file as they find it, so listing and reading run
 * in parallel off the main thread; other targets are listed, then read with `get`.
 */
export async function startObjectPass(
  repo: BackupRepository,
  options: { checkBlobs: boolean; threads?: number; restore?: boolean },
  onResult: (r: ObjectCheck) => void,
  /**
   * Called after the results of each directory walked (a few users' whole directories, or hash
   * directories), with the users the worker restored itself when `restore` (full mode).
   */
  onTask?: (results: ObjectCheck[], verdicts: UserVerdict[]) => void,
): Promise<ObjectPass> {
  const root = repo.target.localPath();
  const threads = Math.max(1, Math.min(MAX_WORKERS, options.threads ?? availableParallelism()));
  const isBlob = (name: string) => name.startsWith('blobs/');
  if (root === null) {
    const listing = await repo.listNames('');
    const blobs = listing.filter((o) => isBlob(o.name));
    await checkAllObjects(repo, listing.filter((o) => !isBlob(o.name) && o.name !== names.config).map((o) => ({ ...o, decode: true })), onResult, { threads });
    const done = options.checkBlobs ? checkAllObjects(repo, blobs.map((o) => ({ ...o, decode: false })), onResult, { threads }) : Promise.resolve();
    return { listing, done };
  }
  // The workers start first (each loads its modules while this thread lists), the users' and
  // data directories go to them at once, and the photos are listed while they work.
  const pool = new WorkerPool(root, repo.objectKey(), threads);
  let walk: ReturnType<typeof walkTasks>;
  try {
    walk = walkTasks(root, options.restore === true);
  } catch (e) {
    await pool.close();
    throw e;
  }
  const { tasks, rootFiles } = walk;
  const listing: BackupObjectInfo[] = [...rootFiles];
  const smallDone = pool.run(
    tasks,
    (r) => {
      listing.push({ name: r.name, size: r.size ?? r.bytes });
      onResult(r);
    },
    onTask,
  );
  smallDone.catch(() => {}); // awaited below
  let blobs: BackupObjectInfo[];
  try {
    blobs = await repo.listNames('blobs/');
  } catch (e) {
    await pool.close();
    throw e;
  }
  listing.push(...blobs);
  // Queued behind the small objects on the same threads: they start the moment those are done.
  const blobsDone = options.checkBlobs ? checkAllObjects(repo, blobs.map((o) => ({ ...o, decode: false })), onResult, { threads, pool }) : Promise.resolve();
  const done = Promise.all([smallDone, blobsDone]).then(() => {}).finally(() => pool.close());
  done.catch(() => {}); // awaited by the caller later; not an unhandled rejection meanwhile
  try {
    await smallDone;
  } catch (e) {
    await done.catch(() => {});
    throw e;
  }
  listing.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { listing, done };
}

/** Directories (relative names) to hand to workers, a few users or hash directories per task; files at the top level. */
function walkTasks(root: string, restore: boolean): { tasks: WorkerTask[]; rootFiles: BackupObjectInfo[] } {
  const tasks: WorkerTask[] = [];
  const rootFiles: BackupObjectInfo[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (e.name === '.tmp' || e.name === 'blobs') continue;
    if (e.isFile()) {
      const st = statSync(join(root, e.name), { throwIfNoEntry: false });
      if (st) rootFiles.push({ name: e.name, size: st.size });
      continue;
    }
    if (!e.isDirectory()) continue;
    if (e.name !== 'users' && e.name !== 'data') {
      tasks.push({ type: 'walk', dirs: [e.name], restore: false });
      continue;
    }
    const subdirs = readdirSync(join(root, e.name)).map((d) => `${e.name}/${d}`);
    const per = e.name === 'users' ? 64 : 4;
    for (let i = 0; i < subdirs.length; i += per) tasks.push({ type: 'walk', dirs: subdirs.slice(i, i + per), restore: restore && e.name === 'users' });
  }
  return { tasks, rootFiles };
}

/**
 * A repository view for one verification: objects the object pass already decoded are served
 * from memory (each is read, hashed and decompressed once), and JSON is parsed once per object
 * while a view from {@link VerifyReadRepository.forUser} lives.
 */
export class VerifyReadRepository extends BackupRepository {
  private readonly parsed = new Map<string, { type?: ObjectTypeName; value: unknown }>();

  constructor(
    private readonly base: BackupRepository,
    private readonly decoded: Map<string, { type: ObjectTypeName; body: Uint8Array }>,
    /** Parsed snapshot manifests, shared by every view: verify reads each twice (who uses what, then the restore). */
    private readonly manifests = new Map<string, unknown>(),
  ) {
    super(base.target, base.config, base.objectKey());
  }

  /** A view sharing the decoded objects and manifests, with its own parse memo (drop it after one user). */
  forUser(): VerifyReadRepository {
    return new VerifyReadRepository(this.base, this.decoded, this.manifests);
  }

  override async get(name: string, type?: ObjectTypeName): Promise<Buffer> {
    const hit = this.decoded.get(name);
    if (!hit) return super.get(name, type);
    if (type && hit.type !== type) throw new BackupError('backup_object_corrupt', `backup object ${name} is a ${hit.type}, expected a ${type}`, { object: name });
    return Buffer.from(hit.body.buffer, hit.body.byteOffset, hit.body.byteLength);
  }

  override async getJson<T>(name: string, type?: ObjectTypeName): Promise<T> {
    if (type === 'snapshot') {
      const manifest = this.manifests.get(name);
      if (manifest !== undefined) return manifest as T;
    }
    const hit = this.parsed.get(name);
    if (hit && (!type || hit.type === type)) return hit.value as T;
    const value = await super.getJson<T>(name, type);
    if (type === 'snapshot' && this.manifests.size < MAX_SHARED_MANIFESTS) this.manifests.set(name, value);
    else this.parsed.set(name, { type, value });
    return value;
  }
}
