// A ContentChecker that spreads big batches over worker threads, so parsing vCards and iCalendar
// (ical.js, tens of µs each) uses the machine's other cores while the event loop writes.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CanonicalContent, ContentLimits } from '../core/content/validate-content.js';
import { type ErrorCode, KeepsakeError } from '../core/errors.js';
import { type CheckedContent, checkContentInline, type ContentChecker, type ContentToCheck } from '../core/ports/content-checker.js';

/** A result as it crosses the thread boundary (errors as plain data). */
export type WireCheckResult =
  | { ok: true; value: CanonicalContent }
  | { ok: false; error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

export interface ContentPoolOptions {
  /** Worker threads; default: one less than the cores, at least 1. */
  threads?: number;
  /** Batches with fewer items are checked on the calling thread (a round trip costs more). */
  minBatch?: number;
}

const WORKER_URL = new URL('./content-worker.js', import.meta.url);

type Pending = Map<number, { resolve: (r: WireCheckResult[]) => void; reject: (e: Error) => void }>;

/** One worker thread, started on first use and again after it died. */
class ContentWorker {
  private current: { worker: Worker; pending: Pending } | null = null;
  private nextId = 0;

  run(items: ContentToCheck[], limits: ContentLimits): Promise<WireCheckResult[]> {
    const { worker, pending } = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, items, limits });
    });
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = null;
    if (c) await c.worker.terminate();
  }

  private started(): { worker: Worker; pending: Pending } {
    if (this.current) return this.current;
    // Small heaps: a share of a batch is a few hundred KB of text, and the parse garbage is
    // short-lived. (The defaults let one worker grow to ~40 MB resident.) Running out only ends
    // the worker, and its share is checked on the calling thread.
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 } });
    worker.unref(); // never keeps the process alive
    const pending: Pending = new Map();
    worker.on('message', (msg: { id: number; results: WireCheckResult[] }) => {
      pending.get(msg.id)?.resolve(msg.results);
      pending.delete(msg.id);
    });
    const fail = (error: Error) => {
      if (this.current?.worker === worker) this.current = null; // the next batch starts a fresh one
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`content worker exited with code ${code}`)));
    this.current = { worker, pending };
    return this.current;
  }
}

/**
 * Splits a batch into one share per worker plus one for the calling thread, which checks its
 * share while the workers check theirs. A share whose worker fails (crashed, terminated) is
 * checked on the calling thread instead, so a batch never fails because of the pool.
 */
export class ContentWorkerPool implements ContentChecker {
  private readonly workers: ContentWorker[];
  private readonly minBatch: number;
  /** Items checked by workers, and items a failed worker left to the calling thread. */
  readonly counts = { byWorkers: 0, fallenBack: 0 };

  constructor(options: ContentPoolOptions = {}) {
    const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
    this.workers = Array.from({ length: threads }, () => new ContentWorker());
    this.minBatch = options.minBatch ?? 64;
  }

  async checkAll(items: ContentToCheck[], limits: ContentLimits): Promise<CheckedContent[]> {
    if (items.length < this.minBatch || this.workers.length === 0) return checkContentInline(items, limits);
    const share = Math.ceil(items.length / (this.workers.length + 1));
    const remote = this.workers.map((w, i) => {
      const part = items.slice(i * share, (i + 1) * share);
      if (part.length === 0) return Promise.resolve([]);
      return w.run(part, limits).then(
        (results) => {
          this.counts.byWorkers += part.length;
          return fromWire(results);
        },
        () => {
          this.counts.fallenBack += part.length;
          return checkContentInline(part, limits);
        },
      );
    });
    const local = checkContentInline(items.slice(this.workers.length * share), limits);
    return [...(await Promise.all(remote)).flat(), ...local];
  }

  /** Ends the workers; a later batch starts them again. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

function fromWire(results: WireCheckResult[]): CheckedContent[] {
  return results.map((r) => (r.ok ? r : { ok: false, error: new KeepsakeError(r.error.code, r.error.message, { details: r.error.details }) }));
}
