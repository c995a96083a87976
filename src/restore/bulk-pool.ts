// The decoding worker threads of a bulk restore (see bulk-worker.ts) and the messages they exchange.
import { Worker } from 'node:worker_threads';
import type { BackupRepository, UserIndex } from '../backup/repository.js';
import type { Kind } from '../core/kinds.js';
import type { DecodedCategory } from './fresh-rows.js';
import type { BackupServer, PlannedUser, RestoreScope } from './restore-planner.js';

/** What a worker is asked. */
export type BulkRequest =
  /**
   * Decode these users (given by index, or by the keys of their directories in a local backup, to
   * be listed by the thread): the rows of `kinds[0]`, and of later kinds too when `keep`.
   */
  | { type: 'first'; id: number; users: UserIndex[] | { keys: string[] }; kinds: Kind[]; keep: boolean }
  /** Decode these users again for `kind`. */
  | { type: 'again'; id: number; users: UserIndex[]; kind: Kind };

/** One user's category as a worker decoded and validated it. */
export interface DecodedUnit {
  userId: string;
  name: string;
  category: DecodedCategory;
}

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
  /** Where the user's objects are (the thread listed them when it was given keys). */
  index: UserIndex;
  /** Set when the user's backup could not be read far enough to plan them. */
  problem?: string;
  user: PlannedUser | null;
  writer: BackupServer | null;
  /** Blobs the user's live photo items point at. */
  photos: string[];
}

/**
 * Decoded categories of one kind for the users of one request, serialized (`v8.serialize`) by the
 * decoding thread: the writer keeps them as bytes until their kind's turn. Kept as objects, the
 * rows of every later kind (hundreds of MB for 10,000 users) survived each garbage collection of
 * the writing thread, which copied and marked them again and again (about a second of its time).
 */
export interface PackedUnits {
  kind: Kind;
  /** The users whose categories are inside, in order. */
  userIds: string[];
  /** `DecodedUnit[]`, serialized. */
  packed: Uint8Array;
}

export interface BulkReply {
  id?: number;
  /** The thread's time so far decoding and validating (ms). */
  timing?: { decodeMs: number };
  users?: UserSummary[];
  /** Categories decoded (validated or not), to be written by the caller. */
  units: DecodedUnit[];
  /** Categories of later kinds decoded with the first (`first` with `keep`), packed per kind. */
  packs?: PackedUnits[];
  /** Categories left for later (`later`), or found damaged on a second reading (`quarantined`). */
  outcomes: CategoryOutcome[];
  error?: string;
}

export interface BulkPoolOptions {
  scope: RestoreScope;
  threads: number;
}

type Pending = { resolve: (r: BulkReply) => void; reject: (e: Error) => void; worker: number };
type Payload = { type: 'first'; users: UserIndex[] | { keys: string[] }; kinds: Kind[]; keep: boolean } | { type: 'again'; users: UserIndex[]; kind: Kind };

/**
 * A few worker threads, each decoding its requests in order. A thread that fails fails what it was
 * given (the restore stops; run again, it resumes).
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

  /** Lets each thread finish and end (terminated if it takes longer than a few seconds). */
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
