// Starts and stops the WAL checkpoint worker (see checkpoint-worker.ts).
import { Worker } from 'node:worker_threads';

/** Checkpoints the WAL of `path` every `intervalMs` in a worker thread. */
export class Checkpointer {
  private readonly worker: Worker;
  /** Frames in the WAL and frames copied to the database at the last checkpoint. */
  last = { log: 0, checkpointed: 0 };
  lastError: string | null = null;

  constructor(path: string, intervalMs = 500) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path, intervalMs } });
    this.worker.unref();
    this.worker.on('message', (m: { type: string; log?: number; checkpointed?: number; message?: string }) => {
      if (m.type === 'checkpoint') this.last = { log: m.log ?? 0, checkpointed: m.checkpointed ?? 0 };
      if (m.type === 'error') this.lastError = m.message ?? 'unknown';
    });
    // A failed checkpoint loses nothing (the WAL keeps every frame); it only lets the WAL grow.
    this.worker.on('error', (e) => (this.lastError = e.message));
  }

  /** Runs a last checkpoint and ends the worker. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => resolve();
      this.worker.once('exit', done);
      this.worker.once('message', (m: { type: string }) => {
        if (m.type === 'stopped') void this.worker.terminate();
      });
      this.worker.postMessage({ type: 'stop' });
      setTimeout(() => void this.worker.terminate(), 5000).unref();
    });
  }
}
