// The main thread's side of a directory target's put worker: one request per object, answered when it is durable and checked.
import { Worker } from 'node:worker_threads';
import { BackupError, type BackupErrorCode } from '../../backup-error.js';
import type { ObjectTypeName } from '../../object-codec.js';

export interface PutRequest {
  id: number;
  name: string;
  type: ObjectTypeName;
  /** The payload: JSON text (cloned cheaply as a string) or bytes (moved, not copied). */
  payload: string | Uint8Array;
  compress: boolean;
}

export type PutReply =
  | { id: number; created: boolean; bytes: number; error?: undefined }
  | { id: number; error: { name?: string; message: string; code?: string; object?: string } };

interface Pending {
  resolve(r: { created: boolean; bytes: number }): void;
  reject(e: unknown): void;
}

/**
 * Writes objects to a directory target from a worker thread: encoding (gzip, checksum,
 * encryption), the temp file, fsyncs, link and the read-back check all happen there, so the
 * serving thread only builds the JSON. The same guarantees as `repo.put` plus a read-back:
 * written once (put-if-absent), durable before the answer, checked after landing.
 */
export class FilePutWorker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly root: string,
    private readonly key: Buffer | null,
  ) {}

  /** Resolves with whether the object was created and its stored size (0 when it already existed). */
  put(name: string, type: ObjectTypeName, payload: string | Uint8Array, compress: boolean): Promise<{ created: boolean; bytes: number }> {
    const w = this.start();
    const id = this.nextId++;
    const req: PutRequest = { id, name, type, payload, compress };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) w.ref();
      if (typeof payload === 'string') w.postMessage(req);
      else {
        // An exact-size copy moves over; a view of a shared slab would be copied whole.
        const own = new Uint8Array(payload.byteLength);
        own.set(payload);
        req.payload = own;
        w.postMessage(req, [own.buffer]);
      }
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./put-worker.js', import.meta.url), { workerData: { root: this.root, key: this.key } });
    w.on('message', (m: PutReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.error) p.reject(toError(m.error));
      else p.resolve({ created: m.created, bytes: m.bytes });
    });
    const fail = (e: unknown) => {
      if (this.worker === w) this.worker = null;
      for (const p of this.pending.values()) p.reject(e instanceof Error ? e : new Error(`backup put worker stopped: ${String(e)}`));
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`backup put worker exited (${code})`)));
    w.unref();
    this.worker = w;
    return w;
  }

  /** Stops the worker (after the puts in flight were answered, since callers await them). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

function toError(e: { name?: string; message: string; code?: string; object?: string }): Error {
  if (e.name === 'BackupError' && e.code) return new BackupError(e.code as BackupErrorCode, e.message, { object: e.object });
  return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
}
