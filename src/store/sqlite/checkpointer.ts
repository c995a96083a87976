// Starts and stops the WAL checkpoint worker (see checkpoint-worker.ts), and lets the WAL start over.
import { Worker } from 'node:worker_threads';

/** How the checkpointer pauses the writer (the group commit) while the last frames are copied. */
export interface WriteHold {
  /** Stop starting write transactions; writes keep queueing. */
  hold(): void;
  /** Start them again. */
  release(): void;
}

/**
 * Past this WAL size, the writer is held back for one checkpoint so the log can start over.
 *
 * Why: under steady writes the worker's PASSIVE checkpoints never catch the writer, so the WAL
 * only grows, and every frame appended past its end costs the kernel a fresh page-cache page
 * plus zeroing of the partial blocks around it (frames are 24 + 4096 bytes): a profile of batched
 * pushes showed ~10 % of the server's CPU under pwrite in ext4_da_write_begin. A WAL that
 * restarts from its beginning overwrites pages already in the page cache instead. Kept below
 * `journal_size_limit` (connection.ts), so a restart does not cut the file short.
 */
export const RESET_AT_BYTES = 48 * 1024 * 1024;
/** A hold never lasts longer than this, whatever the worker does. */
const MAX_HOLD_MS = 1000;

interface WorkerMessage {
  type: string;
  log?: number;
  checkpointed?: number;
  logBytes?: number;
  message?: string;
}

/** Checkpoints the WAL of `path` every `intervalMs` in a worker thread. */
export class Checkpointer {
  private readonly worker: Worker;
  /** Frames in the WAL and frames copied to the database at the last checkpoint. */
  last = { log: 0, checkpointed: 0 };
  lastError: string | null = null;
  /** Holds done so far and their total length: an observable for tests and metrics. */
  readonly holds = { count: 0, totalMs: 0 };
  private holding: { since: number; timer: NodeJS.Timeout } | null = null;
  private stopping = false;

  constructor(
    path: string,
    private readonly writer: WriteHold | null = null,
    intervalMs = 500,
    private readonly resetAtBytes = RESET_AT_BYTES,
  ) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path, intervalMs } });
    this.worker.unref();
    this.worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'checkpoint' || m.type === 'finished') this.last = { log: m.log ?? 0, checkpointed: m.checkpointed ?? 0 };
      if (m.type === 'error') this.lastError = m.message ?? 'unknown';
      if (m.type === 'checkpoint' && (m.logBytes ?? 0) >= this.resetAtBytes) this.startHold();
      if (m.type === 'finished') this.endHold();
    });
    // A failed checkpoint loses nothing (the WAL keeps every frame); it only lets the WAL grow.
    this.worker.on('error', (e) => {
      this.lastError = e.message;
      this.endHold();
    });
  }

  /** Runs a last checkpoint and ends the worker. */
  stop(): Promise<void> {
    this.stopping = true;
    this.endHold();
    return new Promise((resolve) => {
      const done = () => resolve();
      this.worker.once('exit', done);
      // Not `once`: reports of earlier checkpoints may still be queued for this thread (a busy
      // thread reads them late), and the first of those would take the listener, leaving the
      // 5-second timer to end the worker.
      const stopped = (m: { type: string }) => {
        if (m.type !== 'stopped') return;
        this.worker.off('message', stopped);
        void this.worker.terminate();
      };
      this.worker.on('message', stopped);
      this.worker.postMessage({ type: 'stop' });
      setTimeout(() => void this.worker.terminate(), 5000).unref();
    });
  }

  /** Holds writes back and asks the worker to copy what is left of the log. */
  private startHold(): void {
    if (!this.writer || this.holding || this.stopping) return;
    this.writer.hold();
    const timer = setTimeout(() => this.endHold(), MAX_HOLD_MS);
    timer.unref();
    this.holding = { since: performance.now(), timer };
    this.worker.postMessage({ type: 'finish' });
  }

  private endHold(): void {
    if (!this.holding) return;
    clearTimeout(this.holding.timer);
    this.holds.count++;
    this.holds.totalMs += performance.now() - this.holding.since;
    this.holding = null;
    this.writer?.release();
  }
}
