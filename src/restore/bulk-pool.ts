// The worker threads of a bulk restore (see bulk-worker.ts) and the messages they exchange.
import { Worker } from 'node:worker_threads';
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import type { Kind } from '../core/kinds.js';
import type { BackupServer, PlannedUser, RestoreScope } from './restore-planner.js';

/** What a worker is asked. */
export type BulkRequest =
  /** Decode these users; write their accounts and `kinds[0]`; keep the rows of later kinds. */
  | { type: 'first'; id: number; users: UserIndex[]; kinds: Kind[] }
  /** Write the kept rows of `kind`, except those of the users in `skip`. */
  | { type: 'write'; id: number; kind: Kind; skip: string[] }
  /** Decode these users again and write `kind`. */
  | { type: 'again'; id: number; users: UserIndex[]; kind: Kind };

/** What became of one user's category in a worker. */
export interface CategoryOutcome {
  userId: string;
  name: string;
  kind: Kind;
  /**
   * `written`; `quarantined` (did not validate, or could not be written: nothing written);
   * `notFresh` (its collections hold something: restore it item by item); `later` (rows not kept:
   * decode again in the kind's turn). Kinds kept for later report nothing until written.
   */
  state: 'written' | 'quarantined' | 'notFresh' | 'later';
  problems?: string[];
  inserted: number;
  /** Live items in the category. */
  live: number;
}

/** A decoded user, as planning would have found it. */
export interface UserSummary {
  userId: string;
  /** Set when the user's backup could not be read far enough to plan them. */
  problem?: string;
  user: PlannedUser | null;
  writer: BackupServer | null;
  /** Blobs the user's live photo items point at. */
  photos: string[];
}

export interface BulkReply {
  id?: number;
  /** The thread's time so far: decoding and validating, waiting for the write lock, writing, syncing (ms). */
  timing?: { decodeMs: number; waitMs: number; writeMs: number; syncMs: number };
  users?: UserSummary[];
  outcomes: CategoryOutcome[];
  error?: string;
}

export interface BulkPoolOptions {
  scope: RestoreScope;
  dbPath: string;
  threads: number;
  perTransaction: number;
  keptBytes: number;
}

type Pending = { resolve: (r: BulkReply) => void; reject: (e: Error) => void; worker: number };
type Payload = { type: 'first'; users: UserIndex[]; kinds: Kind[] } | { type: 'write'; kind: Kind; skip: string[] } | { type: 'again'; users: UserIndex[]; kind: Kind };

/**
 * A few worker threads, each working through its requests in order and writing through its own
 * connection; they take turns on the write lock. A thread that fails fails what it was given (the
 * restore stops; run again, it resumes).
 */
export class BulkPool {
  readonly threads: number;
  private readonly workers: Worker[];
  private readonly load: number[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private readonly exited: boolean[];
  /** Each thread's latest {@link BulkReply.timing}. */
  readonly timing: Array<BulkReply['timing']> = [];

  constructor(repo: BackupRepository, o: BulkPoolOptions) {
    this.threads = Math.max(1, o.threads);
    const workerData = {
      repoRoot: repo.target.localPath(),
      config: repo.config,
      key: repo.objectKey(),
      scope: { ...o.scope },
      dbPath: o.dbPath,
      lock: new SharedArrayBuffer(4),
      perTransaction: o.perTransaction,
      keptBytes: Math.floor(o.keptBytes / this.threads),
    };
    this.workers = Array.from({ length: this.threads }, (_, n) => {
      const w = new Worker(new URL('./bulk-worker.js', import.meta.url), { workerData });
      w.on('message', (m: BulkReply) => {
        const p = this.pending.get(m.id!);
        if (!p) return;
        this.pending.delete(m.id!);
        this.load[p.worker]--;
        this.timing[p.worker] = m.timing;
        if (m.error === undefined) p.resolve(m);
        else p.reject(new Error(m.error));
      });
      const died = (e: Error) => {
        this.failure ??= e;
        for (const [id, p] of this.pending) {
          if (p.worker !== n) continue;
          this.pending.delete(id);
          p.reject(e);
        }
      };
      w.on('error', died);
      w.on('exit', (code) => {
        this.exited[n] = true;
        died(new Error(`a restore worker thread exited (code ${code})`));
      });
      return w;
    });
    this.load = this.workers.map(() => 0);
    this.exited = this.workers.map(() => false);
  }

  /** Sends to the least busy thread (or to thread `to`). */
  send(payload: Payload, to?: number): Promise<BulkReply> {
    if (this.failure) return Promise.reject(this.failure);
    let n = to ?? 0;
    if (to === undefined) for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[n]) n = i;
    const id = this.nextId++;
    this.load[n]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: n });
      this.workers[n].postMessage({ ...payload, id });
    });
  }

  /** Sends to every thread (e.g. "write what you kept of this kind"). */
  all(payload: Payload): Promise<BulkReply[]> {
    return Promise.all(this.workers.map((_, n) => this.send(payload, n)));
  }

  /** Lets each thread close its connection and end (terminated if it takes longer than a few seconds). */
  async close(): Promise<void> {
    this.failure ??= new Error('the restore workers are closed');
    await Promise.all(
      this.workers.map(
        (w, n) =>
          new Promise<void>((resolve) => {
            if (this.exited[n]) return resolve();
            const timer = setTimeout(() => void w.terminate().then(() => resolve()), 5000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.postMessage({ type: 'close' });
          }),
      ),
    );
  }
}
